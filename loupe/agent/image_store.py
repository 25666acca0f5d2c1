"""Images and masks stay out of the agent's graph state: the state holds keys of this store.

Input images are referenced by their file path when they came from a file (so a checkpointed run can
resume in another process); other images are kept in memory and written as PNG into ``folder``. With
``persist=False`` (no checkpoint file: no other process can resume a run) nothing is written to disk.
Without a ``folder`` the store makes a temporary one on its first write and removes it on ``close()``,
when the store is garbage-collected, or at interpreter exit, whichever comes first.
"""

from __future__ import annotations

from pathlib import Path
import tempfile
import threading
import uuid

from loupe.programs.images import load_image
from loupe.programs.values import Image


class ImageStore:
    def __init__(self, folder: Path | str | None = None, persist: bool = True):
        self.persist = persist
        self._given = Path(folder) if folder else None
        self._temporary: tempfile.TemporaryDirectory | None = None
        self._memory: dict[str, Image] = {}
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        """Where images are written: the given folder, else a temporary one made on first use."""
        if self._given is not None:
            return self._given
        with self._lock:
            if self._temporary is None:
                self._temporary = tempfile.TemporaryDirectory(prefix="loupe-images-", ignore_cleanup_errors=True)
            return Path(self._temporary.name)

    def close(self) -> None:
        """Forget the images; remove the temporary folder (a given folder is the caller's and stays)."""
        with self._lock:
            self._memory.clear()
            temporary, self._temporary = self._temporary, None
        if temporary is not None:
            temporary.cleanup()

    def __enter__(self) -> ImageStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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

    def get(self, key: str) -> Image:
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        image = load_image(key.split(":", 1)[1])
        with self._lock:
            self._memory[key] = image
        return image

    def discard(self, keys) -> None:
        """Forget ``keys`` (a finished run's images): dropped from memory, their PNG files deleted."""
        for key in filter(None, keys):
            with self._lock:
                self._memory.pop(key, None)
            if key.startswith("png:"):
                Path(key[4:]).unlink(missing_ok=True)
