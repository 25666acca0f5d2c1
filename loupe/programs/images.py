"""Loading input images safely, whatever the file: every failure is an ``ImageError`` naming the file.

``load_image(path)`` decodes a file into an RGB ``Image``:

* images over ``MAX_MEGAPIXELS`` are refused before their pixels are decoded (decompression bombs),
  without touching Pillow's global ``Image.MAX_IMAGE_PIXELS``;
* the EXIF orientation is applied, so the pixels are the way up a photo viewer shows them;
* CMYK, 16-bit, float, palette, grey, 1-bit and alpha images become 8-bit RGB; transparent areas are
  shown on white; 16-bit values are scaled (65535 -> 255), not clipped;
* animated GIF / WebP / APNG give their first frame.

``to_image(obj)`` does the same for the Python API: bytes, a PIL image, a numpy array or an ``Image``.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
from PIL import Image as PILImage, ImageOps, UnidentifiedImageError

from loupe.programs.errors import ImageError
from loupe.programs.values import Image

MAX_MEGAPIXELS = 64
_WHITE = (255, 255, 255)


def load_image(source, max_megapixels: float = MAX_MEGAPIXELS) -> Image:
    """An RGB ``Image`` from a file path (str or Path), or from anything ``to_image`` takes."""
    if not isinstance(source, (str, os.PathLike)):
        return to_image(source, max_megapixels=max_megapixels)
    path = Path(source)
    name = str(source)
    _check_file(path, name)
    return _decode(path, name, max_megapixels)


def confined_path(folder: str | os.PathLike, name: str) -> Path:
    """``folder / name`` when ``name`` is a relative path that stays inside ``folder``, else ``ImageError``.

    Absolute paths, drive letters, ``..`` parts (with either separator) and symlinks leading out of
    ``folder`` are refused, all with the same message, so the answer never tells whether a file exists.
    """
    outside = ImageError(f"{name}: image files must be inside {folder}; give a path relative to it "
                         "(no absolute path, no '..')")
    if not name or "\0" in name or not is_relative_name(name):
        raise outside
    base = Path(folder)
    path = base / name
    try:
        inside = path.resolve().is_relative_to(base.resolve())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a bad name
        inside = False
    if not inside:
        raise outside
    return path


def is_relative_name(name: str) -> bool:
    """Whether ``name`` is a relative path without ``..`` on POSIX and Windows alike (looks at the text only)."""
    for pure in (PurePosixPath(name), PureWindowsPath(name)):
        if pure.is_absolute() or pure.anchor or ".." in pure.parts:
            return False
    return True


def _check_file(path: Path, name: str) -> None:
    if not path.exists():
        raise ImageError(f"{name}: no such file")
    if path.is_dir():
        raise ImageError(f"{name}: is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{name}: file is empty (0 bytes)")


def to_image(obj, name: str = "", max_megapixels: float = MAX_MEGAPIXELS) -> Image:
    """An RGB ``Image`` from encoded ``bytes``, a PIL image, a numpy array or an ``Image`` (returned as is).

    Arrays may be ``[H, W]`` grey, ``[H, W, 3]`` RGB or ``[H, W, 4]`` RGBA; ``uint8`` as is, ``uint16``
    scaled from 0..65535, ``bool`` as black/white, floats taken as 0..1.
    """
    if isinstance(obj, Image):
        return obj
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return decode_image(bytes(obj), name or "<bytes>", max_megapixels)
    if isinstance(obj, PILImage.Image):
        return _pil_to_image(obj, name or "<PIL image>", max_megapixels)
    if isinstance(obj, np.ndarray):
        return Image(_array_to_rgb(obj, name or "<array>"), name)
    raise ImageError(f"{name or 'image'}: cannot make an image from a {type(obj).__name__}; "
                     "pass a file path, bytes, a PIL image or a numpy array")


def decode_image(data: bytes, name: str, max_megapixels: float = MAX_MEGAPIXELS) -> Image:
    """Decode encoded image ``data`` (PNG, JPEG, ...) into an upright RGB ``Image``; ``name`` is for messages."""
    if not data:
        raise ImageError(f"{name}: file is empty (0 bytes)")
    return _decode(io.BytesIO(data), name, max_megapixels)


def _decode(source, name: str, max_megapixels: float) -> Image:
    """``source`` (a path or a binary file object) opened lazily: only the header is read before the size check."""
    with _open(source, name, max_megapixels) as pil:
        return _pil_to_image(pil, name, max_megapixels)


def _pil_to_image(pil: PILImage.Image, name: str, max_megapixels: float) -> Image:
    """Size check, then decode, turn upright (EXIF) and convert to RGB."""
    _check_size(pil.width, pil.height, name, max_megapixels)
    try:
        pil.load()
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"{name}: the image data is truncated or corrupt ({error})") from None
    return Image(np.asarray(to_rgb(_upright(pil), name)), name if name[:1] != "<" else "")


def _open(source, name: str, max_megapixels: float) -> PILImage.Image:
    """``PIL.Image.open`` with Pillow's own bomb check turned into our message and its warning hushed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            return PILImage.open(source)
    except PILImage.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        pixels = int(found.group(1)) if found else 0
        raise ImageError(_too_big(name, pixels, max_megapixels)) from None
    except (UnidentifiedImageError, ImportError):
        # ImportError: a library may patch PIL.Image.open to try an optional decoder plugin on unknown
        # files (ultralytics does, for HEIF); a missing plugin still means "not an image we can read"
        raise ImageError(f"{name}: not an image Pillow can read (unknown or unsupported format)") from None
    except PermissionError as error:
        raise ImageError(f"{name}: cannot read the file ({error.strerror})") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"{name}: not an image Pillow can read ({error})") from None


def _check_size(width: int, height: int, name: str, max_megapixels: float) -> None:
    if width * height > max_megapixels * 1_000_000:
        raise ImageError(_too_big(name, width * height, max_megapixels) + f" ({width}x{height})")
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image has no pixels ({width}x{height})")


def _too_big(name: str, pixels: int, max_megapixels: float) -> str:
    amount = f"{pixels / 1e6:.0f}" if pixels >= 10_000_000 else f"{pixels / 1e6:.1f}"
    return f"{name}: {amount} megapixels is more than the {max_megapixels:g} megapixel limit"


def _upright(pil: PILImage.Image) -> PILImage.Image:
    """``pil`` turned the way its EXIF orientation says; a broken EXIF block leaves it as it is."""
    try:
        return ImageOps.exif_transpose(pil)
    except Exception:  # a corrupt EXIF block must not make a good photo unusable
        return pil


def to_rgb(pil: PILImage.Image, name: str = "") -> PILImage.Image:
    """An 8-bit RGB copy of ``pil``: 16-bit scaled, transparency flattened on white."""
    if pil.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        return PILImage.fromarray(_array_to_rgb(np.asarray(pil), name, wide=True))
    if pil.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in pil.info:
        rgba = pil.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, _WHITE + (255,))
        return PILImage.alpha_composite(background, rgba).convert("RGB")
    try:
        return pil.copy() if pil.mode == "RGB" else pil.convert("RGB")
    except (ValueError, OSError) as error:
        raise ImageError(f"{name}: cannot convert its {pil.mode} colours to RGB ({error})") from None


def _array_to_rgb(array: np.ndarray, name: str, wide: bool = False) -> np.ndarray:
    """``uint8`` ``[H, W, 3]`` from a grey, RGB or RGBA array (``wide``: integers are 16-bit samples)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageError(f"{name}: an image array must be [H, W], [H, W, 3] or [H, W, 4]; got {array.shape}")
    values = _to_uint8(array, wide)
    if values.ndim == 2:
        return np.repeat(values[:, :, None], 3, axis=2)
    if values.shape[2] == 4:
        alpha = values[:, :, 3:].astype(np.float32) / 255.0
        flat = values[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(np.rint(flat), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(values)


def _to_uint8(array: np.ndarray, wide: bool) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        return np.clip(np.rint(np.nan_to_num(array) * 255.0), 0, 255).astype(np.uint8)
    if wide or array.dtype == np.uint16:
        return np.clip(np.rint(array.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    return np.clip(array, 0, 255).astype(np.uint8)
