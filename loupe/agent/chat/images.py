"""The images of conversations, stored once by content: an image's key is the SHA-256 of its pixels (and
shape), so an original uploaded again, or an edit that changes nothing, costs no second copy.

With a ``folder`` each image is one PNG file named by its key (sessions outlive the process); without, the
images stay in memory. Loaded images are kept in a small LRU memo (``memo`` images).
"""

from __future__ import annotations

from collections import OrderedDict
import hashlib
from pathlib import Path
import threading

from loupe.programs.images import load_image
from loupe.programs.values import Image


def content_key(image: Image) -> str:
    """The SHA-256 (hex) of the image's shape and pixels."""
    digest = hashlib.sha256(repr(image.pixels.shape).encode())
    digest.update(image.pixels.tobytes())
    return digest.hexdigest()


class ContentStore:
    def __init__(self, folder: Path | str | None = None, memo: int = 32):
        self.folder = Path(folder) if folder else None
        self._memo: OrderedDict[str, Image] = OrderedDict()
        self._keep = memo
        self._lock = threading.Lock()

    def put(self, image: Image) -> str:
        """The image's key; the image is written only when no image of that content is stored yet."""
        key = content_key(image)
        if self.folder is not None:
            path = self.folder / f"{key}.png"
            if not path.exists():
                self.folder.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".part")
                image.to_pil().save(partial, format="PNG")
                partial.replace(path)   # a reader never sees half a file
        self._remember(key, image)
        return key

    def get(self, key: str) -> Image:
        """The image of ``key``; KeyError when no such image is stored."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        path = self.folder / f"{key}.png" if self.folder is not None else None
        if path is None or not path.is_file():
            raise KeyError(f"no stored image {key[:12]}")
        image = load_image(path)
        self._remember(key, image)
        return image

    def has(self, key: str) -> bool:
        with self._lock:
            if key in self._memo:
                return True
        return self.folder is not None and (self.folder / f"{key}.png").is_file()

    def discard(self, keys) -> None:
        """Forget ``keys`` (a deleted session's images no other session uses)."""
        for key in keys:
            with self._lock:
                self._memo.pop(key, None)
            if self.folder is not None:
                (self.folder / f"{key}.png").unlink(missing_ok=True)

    def _remember(self, key: str, image: Image) -> None:
        """Memoise ``image``; only images that are also on disk are ever evicted."""
        with self._lock:
            self._memo[key] = image
            self._memo.move_to_end(key)
            while self.folder is not None and len(self._memo) > self._keep:
                self._memo.popitem(last=False)
