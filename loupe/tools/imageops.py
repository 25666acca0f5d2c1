"""Pixel helpers shared by the edit tools (COLORPOP, BGBLUR, BLUR, EMOJI, TAG).

Conventions: ``pixels`` are ``uint8`` ``[H, W, 3]`` RGB arrays; masks are boolean ``[H, W]``; an
``alpha`` is ``float32`` ``[H, W]`` in ``0..1`` (1 = take the top layer). Every helper returns a new
array and never writes into its inputs.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Objects
from loupe.tools.base import require

# ITU-R BT.601 luma weights, the same as Pillow's ``convert("L")``.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def check_objects_fit(image: Image, objects: Objects, tool: str) -> None:
    """ToolError unless ``objects`` were found in an image of ``image``'s size.

    ``image_size`` ``(0, 0)`` means "unknown size" (e.g. ``Objects.empty()``) and is accepted.
    """
    size = tuple(objects.image_size)
    require(size == (0, 0) or size == image.size,
            f"{tool}: the objects were found in a {size[0]}x{size[1]} image, but the image to edit is "
            f"{image.width}x{image.height}; pass the image the objects were found in (not a crop of it)")


def require_objects(image: Image, objects: Objects, verb: str) -> None:
    """ToolError naming what was not found when ``objects`` is empty: an edit of nothing must not pass
    for a success ("no kite found in photo.jpg; nothing to crop")."""
    if len(objects):
        return
    what = objects.sought.strip() or "object"
    where = Path(image.source).name if image.source else "the image"
    raise ToolError(f"no {what} found in {where}; nothing to {verb}")


def objects_mask(image: Image, objects: Objects) -> np.ndarray:
    """Boolean ``[H, W]`` union of the objects' masks (their boxes where they have no mask)."""
    region = np.zeros((image.height, image.width), dtype=bool)
    for obj in objects:
        region |= obj.region_mask(image.width, image.height)
    return region


def feather(mask: np.ndarray, radius: float, outward: bool = True) -> np.ndarray:
    """A soft ``float32`` ``[H, W]`` alpha in 0..1 from a boolean ``mask``, ramping over ``radius`` pixels.

    ``outward=True``: 1 everywhere inside the mask, fading to 0 at ``radius`` pixels outside it (the
    object stays exactly as it is; the halo around it blends). ``outward=False``: 0 everywhere outside,
    rising to 1 at ``radius`` pixels inside (nothing outside the mask changes).
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any() or mask.all() or radius <= 0:
        return mask.astype(np.float32)
    if outward:
        distance_outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
        alpha = 1.0 - distance_outside / float(radius)
    else:
        distance_inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
        alpha = distance_inside / float(radius)
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    alpha[mask if outward else ~mask] = 1.0 if outward else 0.0
    return alpha


def feather_radius(image: Image, fraction: float = 0.015) -> float:
    """A feather width in pixels that looks the same at any resolution: ``fraction`` of the shorter side."""
    return max(2.0, fraction * min(image.width, image.height))


def gaussian_blur(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """``pixels`` blurred with a Gaussian of standard deviation ``sigma`` pixels (edges reflected)."""
    if sigma <= 0:
        return np.array(pixels, copy=True)
    return cv2.GaussianBlur(np.ascontiguousarray(pixels), (0, 0), sigmaX=float(sigma),
                            borderType=cv2.BORDER_REFLECT)


def pixelate(pixels: np.ndarray, cells: int) -> np.ndarray:
    """``pixels`` (``[h, w, 3]``) reduced to about ``cells`` blocks along its longer side, same size out."""
    height, width = pixels.shape[:2]
    scale = max(1, cells) / max(height, width)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(np.ascontiguousarray(pixels), small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST)


def greyscale(pixels: np.ndarray) -> np.ndarray:
    """``uint8`` ``[H, W, 3]`` grey version of ``pixels`` (R == G == B = BT.601 luma)."""
    luma = np.asarray(pixels, dtype=np.float32) @ _LUMA
    grey = np.clip(np.rint(luma), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def composite(base: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``top`` over ``base`` (both ``uint8`` ``[H, W, 3]``) with per-pixel ``alpha`` ``[H, W]`` in 0..1.

    Where ``alpha`` is exactly 0 the result equals ``base``; where it is exactly 1 it equals ``top``.
    """
    weight = np.clip(np.asarray(alpha, dtype=np.float32), 0.0, 1.0)[:, :, None]
    mixed = base.astype(np.float32) * (1.0 - weight) + top.astype(np.float32) * weight
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def paste_rgba(pixels: np.ndarray, patch: np.ndarray, left: int, top: int) -> np.ndarray:
    """A copy of ``pixels`` with the RGBA ``uint8`` ``patch`` ``[h, w, 4]`` laid over it at ``(left, top)``.

    Parts of the patch outside the image are dropped.
    """
    out = np.array(pixels, copy=True)
    height, width = out.shape[:2]
    x1, y1 = max(left, 0), max(top, 0)
    x2, y2 = min(left + patch.shape[1], width), min(top + patch.shape[0], height)
    if x2 <= x1 or y2 <= y1:
        return out
    piece = patch[y1 - top:y2 - top, x1 - left:x2 - left]
    alpha = piece[:, :, 3].astype(np.float32) / 255.0
    out[y1:y2, x1:x2] = composite(out[y1:y2, x1:x2], piece[:, :, :3], alpha)
    return out
