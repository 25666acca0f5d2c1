"""The values of programs over videos: one frozen type per kind, as in ``loupe.programs.values``.

* ``Video``        — a video file's metadata (no pixels): ``path``, size, native ``fps``, frame count, duration.
* ``Frames``       — frames of a video sampled at ``fps`` frames per second, decoded only while iterated (a
  stream of ``(time_s, Image)``; never all in memory). The decoding is given by the tool that made it.
* ``FrameObjects`` — what was found in each sampled frame: ``(time_s, Objects)`` in time order (boxes only).
* ``Track``        — one object followed over time: its id, label, and ``(time_s, box)`` where it was seen.
* ``Tracks``       — the distinct objects of a video, each a ``Track``.

Times are seconds from the start of the video; boxes are ``(x1, y1, x2, y2)`` pixels of the sampled frame.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
import math
from typing import Callable, Iterator

from loupe.programs.values import Image, Objects


@dataclass(frozen=True)
class Video:
    """A video file, probed but not decoded. ``fps`` is the native rate; ``duration_s`` seconds."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str = ""

    def __repr__(self) -> str:
        return f"Video({self.width}x{self.height}, {self.duration_s:.1f} s at {self.fps:g} fps, {self.path!r})"


@dataclass(frozen=True, eq=False)
class Frames:
    """``video`` sampled at ``fps``; iterating decodes as it goes and yields ``(time_s, Image)``.

    ``decode`` is the tool's streaming decoder (called once per iteration, so the frames can be read again)."""

    video: Video
    fps: float
    decode: Callable[[], Iterator[tuple[float, Image]]] = field(repr=False)

    def __post_init__(self):
        if not (isinstance(self.fps, (int, float)) and math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"Frames fps must be a positive number; got {self.fps!r}")

    @property
    def expected_count(self) -> int:
        """About how many frames the sampling gives (at most the video's own frame count)."""
        return max(1, min(self.video.frame_count or 1, math.ceil(self.video.duration_s * self.fps)))

    def __iter__(self) -> Iterator[tuple[float, Image]]:
        return iter(self.decode())

    def __repr__(self) -> str:
        return f"Frames(~{self.expected_count} at {self.fps:g} fps of {self.video!r})"


@dataclass(frozen=True, eq=False)
class FrameObjects:
    """Objects found in each sampled frame, in time order: ``frames`` = ``((time_s, Objects), ...)``."""

    frames: tuple[tuple[float, Objects], ...]
    fps: float
    duration_s: float
    sought: str = ""

    def __len__(self) -> int:
        return len(self.frames)

    def seen_at(self) -> tuple[float, ...]:
        """The times of the frames in which at least one object was found."""
        return tuple(t for t, objects in self.frames if len(objects))

    def __repr__(self) -> str:
        return f"FrameObjects({len(self.frames)} frames, {len(self.seen_at())} with {self.sought or 'objects'})"


@dataclass(frozen=True)
class Track:
    """One object over time: ``seen`` = ``((time_s, (x1, y1, x2, y2)), ...)`` in time order; ``score`` the
    detector's best score for it in any frame (0..1)."""

    id: int
    label: str
    seen: tuple[tuple[float, tuple[float, float, float, float]], ...]
    score: float = 1.0

    def __post_init__(self):
        if not self.seen:
            raise ValueError(f"Track {self.id} must be seen at least once")

    @property
    def first_s(self) -> float:
        return self.seen[0][0]

    @property
    def last_s(self) -> float:
        return self.seen[-1][0]

    def box_at(self, time: float) -> tuple[float, float, float, float] | None:
        """Where the object is at ``time``: between two sightings, the box moved linearly from one to the next;
        within half the track's mean gap between sightings before its first or after its last, that sighting's
        box (a sample stands for the frames around it); otherwise None (not in view)."""
        times = [t for t, _ in self.seen]
        margin = (times[-1] - times[0]) / (len(times) - 1) / 2 if len(times) > 1 else 0.25
        if time < times[0] - margin or time > times[-1] + margin:
            return None
        after = bisect_right(times, time)
        if after == 0 or after == len(times):
            return self.seen[0 if after == 0 else -1][1]
        (t0, b0), (t1, b1) = self.seen[after - 1], self.seen[after]
        share = (time - t0) / (t1 - t0) if t1 > t0 else 0.0
        return tuple(a + (b - a) * share for a, b in zip(b0, b1))

    def to_data(self) -> dict:
        return {"id": self.id, "label": self.label, "first_s": round(self.first_s, 2),
                "last_s": round(self.last_s, 2), "frames": len(self.seen),
                "score": round(self.score, 3)}


@dataclass(frozen=True)
class Tracks:
    """The distinct objects followed through a video (``items``, by first appearance); ``frame_size`` is the
    ``(width, height)`` of the sampled frames their boxes are in (``(0, 0)``: not known)."""

    items: tuple[Track, ...]
    duration_s: float
    sought: str = ""
    frame_size: tuple[int, int] = (0, 0)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Track]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"Tracks({len(self.items)} {self.sought or 'objects'})"


def video_type_name(value) -> str | None:
    """The ``ValueType`` value (its name) of a video value, or None for any other value."""
    for kind, name in ((Video, "Video"), (Frames, "Frames"), (FrameObjects, "FrameObjects"), (Tracks, "Tracks")):
        if isinstance(value, kind):
            return name
    return None


def video_text(value) -> str | None:
    """How a video value reads as an answer, or None for any other value."""
    if isinstance(value, Tracks):
        return f"{len(value)} {value.sought or 'objects'} tracked"
    if isinstance(value, (Video, Frames, FrameObjects)):
        return repr(value)
    return None
