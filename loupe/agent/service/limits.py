"""The service's limits: upload size and pixels, folders a client may name, and the bounded queue.

Every refusal is a ``ServiceError`` carrying the HTTP status and, when a limit was hit, the limit's
name and value, so a client reads ``{"error": ..., "limit": "max_upload_bytes", "value": 20971520}``.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import threading
import time
from pathlib import Path

from loupe.programs.errors import ImageError
from loupe.programs.images import decode_image, load_image
from loupe.programs.values import Image


@dataclass
class ServiceError(Exception):
    """A refusal: ``status`` is the HTTP status; ``limit`` names the limit that was hit, if one was."""

    status: int
    message: str
    limit: str | None = None
    value: float | int | None = None
    retry_after_s: int | None = None

    def __str__(self) -> str:
        return self.message

    def body(self) -> dict:
        body: dict = {"error": self.message}
        if self.limit:
            body.update(limit=self.limit, value=self.value)
        return body


def image_from_bytes(data: bytes, name: str, max_bytes: int, max_megapixels: float) -> Image:
    """Decode an uploaded file: 413 past ``max_bytes`` or ``max_megapixels``; 422 when it is no image."""
    if len(data) > max_bytes:
        raise ServiceError(413, f"{name}: {len(data)} bytes is more than the upload limit of {max_bytes} bytes",
                           "max_upload_bytes", max_bytes)
    try:
        return decode_image(data, name, max_megapixels)
    except ImageError as error:
        raise _image_refusal(error, max_megapixels) from None


def image_from_path(path: str, allow_dirs, max_bytes: int, max_megapixels: float) -> Image:
    """Load a file a client named: only inside ``allow_dirs`` (symbolic links resolved first)."""
    file = allowed_path(path, allow_dirs)
    try:
        size = file.stat().st_size
    except OSError:
        raise ServiceError(422, f"{path}: no such file") from None
    if size > max_bytes:
        raise ServiceError(413, f"{path}: {size} bytes is more than the upload limit of {max_bytes} bytes",
                           "max_upload_bytes", max_bytes)
    try:
        return load_image(file, max_megapixels)
    except ImageError as error:
        raise _image_refusal(error, max_megapixels) from None


def allowed_path(path: str, allow_dirs) -> Path:
    """``path`` resolved, if it lies inside one of ``allow_dirs``; else a 403 that names no other file."""
    if not allow_dirs:
        raise ServiceError(403, "this server reads no files by path (start it with --allow-dir DIR); "
                                "upload the image instead", "allow_dirs", 0)
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        raise ServiceError(422, f"{path!r} is not a usable path") from None
    for folder in allow_dirs:
        if resolved.is_relative_to(folder):
            return resolved
    raise ServiceError(403, f"{path} is outside the folders this server may read (--allow-dir)", "allow_dirs",
                       len(allow_dirs))


def _image_refusal(error: ImageError, max_megapixels: float) -> ServiceError:
    message = str(error)
    if "megapixel limit" in message:
        return ServiceError(413, message, "max_megapixels", max_megapixels)
    return ServiceError(422, message)


class Admission:
    """The bounded queue: at most ``capacity`` runs admitted (working, or waiting for a worker).

    A run waiting for a person leaves the count while it waits (``suspend`` / ``resume``): it holds no
    worker. ``admit()`` raises a 503 whose Retry-After is computed from the queue: the rounds of work ahead
    of a new run (``ceil((admitted - workers + 1) / workers)``) times the typical run time, which is the
    larger of the recent mean (runs that finished) and the mean age of the runs working now (so runs that
    are still going, slower than the recent mean, lengthen the estimate instead of hiding).
    """

    def __init__(self, workers: int, max_queue: int, clock=time.monotonic):
        self.workers, self.capacity = workers, workers + max_queue
        self._admitted = 0
        self._mean_run_s = 1.0
        self._working: dict[str, float] = {}
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def admitted(self) -> int:
        return self._admitted

    def admit(self) -> None:
        with self._lock:
            if self._admitted >= self.capacity:
                wait = self._retry_after()
                raise ServiceError(503, f"the server is busy ({self._admitted} runs admitted, the limit is "
                                        f"{self.capacity}); try again in {wait} s", "queue_capacity",
                                   self.capacity, retry_after_s=wait)
            self._admitted += 1

    def retry_after(self) -> int:
        with self._lock:
            return self._retry_after()

    def _retry_after(self) -> int:
        now = self._clock()
        ages = [now - started for started in self._working.values()]
        typical = max(self._mean_run_s, sum(ages) / len(ages) if ages else 0.0)
        rounds = math.ceil(max(1, self._admitted - self.workers + 1) / max(1, self.workers))
        return int(min(3600, max(1, math.ceil(typical * rounds))))

    def started(self, key: str) -> None:
        """A run began (or went back to) work."""
        with self._lock:
            self._working[key] = self._clock()

    def stopped(self, key: str) -> None:
        """A run stopped working for now (it waits for a person); its time so far is not a run time."""
        with self._lock:
            self._working.pop(key, None)

    def suspend(self) -> None:
        """A run waits for a person: it leaves the count (its place may be given to another run)."""
        with self._lock:
            self._admitted = max(0, self._admitted - 1)

    def resume(self) -> None:
        """A decided run comes back (never refused: it was admitted once)."""
        with self._lock:
            self._admitted += 1

    def release(self, run_s: float | None = None, key: str | None = None) -> None:
        with self._lock:
            self._admitted = max(0, self._admitted - 1)
            if key is not None:
                self._working.pop(key, None)
            if run_s is not None:
                self._mean_run_s = 0.8 * self._mean_run_s + 0.2 * run_s
