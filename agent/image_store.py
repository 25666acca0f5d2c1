"""Images and masks stay out of the agent's graph state: the state holds keys of this store.

Input images are referenced by their file path when they came from a file (so a checkpointed run can
resume in another process); other images are kept in memory and written as PNG into ``folder``. With
``persist=False`` (no checkpoint file: no other process can resume a run) nothing is written to disk.
"""

from __future__ import annotations

from pathlib import Path
import tempfile
import threading
import uuid

from programs.images import load_image
from programs.values import Image


class ImageStore:
    def __init__(self, folder: Path | str | None = None, persist: bool = True):
        self.persist = persist
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="loupe-images-"))
        self._memory: dict[str, Image] = {}
        self._lock = threading.Lock()

    def put_input(self, image: Image) -> str:
        """A key for an input image: ``file:<path>`` when it was loaded from a file (resumable anywhere)."""
        source = Path(image.source) if image.source else None
        if source is not None and source.is_file():
            key = f"file:{source.resolve()}"
            with self._lock:
                self._memory[key] = image
            return key
        return self.put(image)

    def put(self, image: Image) -> str:
        """A key for any image (an edit's result, an array): written as ``png:<path>`` in ``folder``, or kept
        as ``mem:<id>`` in memory only when not persisting."""
        if not self.persist:
            key = f"mem:{uuid.uuid4().hex}"
            with self._lock:
                self._memory[key] = image
            return key
        path = self.folder / f"{uuid.uuid4().hex}.png"
        self.folder.mkdir(parents=True, exist_ok=True)
        image.to_pil().save(path)
        key = f"png:{path}"
        with self._lock:
            self._memory[key] = image
        return key

    def discard(self, keys) -> None:
        """Forget ``keys`` (a finished run's images): dropped from memory, their PNG files deleted."""
        for key in filter(None, keys):
            with self._lock:
                self._memory.pop(key, None)
            if key.startswith("png:"):
                Path(key[4:]).unlink(missing_ok=True)

    def get(self, key: str) -> Image:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        image = load_image(key.split(":", 1)[1])
        with self._lock:
            self._memory[key] = image
        return image
