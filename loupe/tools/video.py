"""Video files: probe, limits, and streaming decoding at a sampling rate, with PyAV (FFmpeg's libraries).

PyAV rather than OpenCV's ``VideoCapture`` (already a dependency): it gives each frame's presentation time
(so sampling is right for variable frame rates), the codec, duration and frame count a container declares
(so limits are checked before any decoding), FFmpeg's own error for a corrupt file, and the audio streams
that edits on video will need to keep; it is also what ``supervision`` (under the tracker) depends on.

Frames are decoded one at a time and converted (scaled, RGB) only when sampled: memory does not grow with
the clip's length.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import os
from pathlib import Path
from typing import Iterator

import numpy as np

from loupe.programs.errors import InputError
from loupe.programs.values import Image
from loupe.programs.video_programs import VIDEO_SUFFIXES, looks_like_video_file
from loupe.programs.video_values import Frames, Video

FRAME_MAX_SIDE = 640        # sampled frames are scaled down to this longer side: the lite detector sees 512
DEFAULT_FPS = {"track": 4.0, "time": 2.0, "frames": 1.0}   # samples per second, by what the frames are for
MIN_DEFAULT_FPS = {"track": 1.5, "time": 1.0, "frames": 0.2}  # below these, tracks break (BENCHMARKS.md, Video)
MAX_DEFAULT_FRAMES = 120    # a longer clip is sampled more sparsely, down to the floor above (about 0.2 s a frame)
MAX_FPS = 30.0


@dataclass(frozen=True)
class VideoLimits:
    """What a video may be before it is decoded: ``max_duration_s`` seconds, ``max_pixels`` per frame
    (width x height), ``max_frames`` frames in all, ``max_bytes`` on disk."""

    max_duration_s: float = 1800.0
    max_pixels: int = 3840 * 2160
    max_frames: int = 200_000
    max_bytes: int = 4 * 1024 ** 3


def is_video_path(path) -> bool:
    """Whether ``path`` names a video by its suffix (``.mp4``, ``.avi``, ``.mov``, ...)."""
    return isinstance(path, (str, os.PathLike)) and looks_like_video_file(os.fspath(path))


def probe(path, limits: VideoLimits = VideoLimits()) -> Video:
    """The ``Video`` at ``path``, its declared size, rate, frame count and duration checked against
    ``limits``; an ``InputError`` naming the file for a missing, unreadable, corrupt, unsupported or too
    large one (the message names the limit)."""
    import av

    name, path = str(path), Path(path)
    if not path.is_file():
        raise InputError(f"{name}: no such video file")
    if path.stat().st_size > limits.max_bytes:
        raise InputError(f"{name}: {path.stat().st_size / 1024 ** 3:.1f} GiB is over the limit of "
                         f"{limits.max_bytes / 1024 ** 3:g} GiB for a video file")
    try:
        with av.open(name) as container:
            if not container.streams.video:
                raise InputError(f"{name}: the file has no video stream (supported: {_suffixes()})")
            stream = container.streams.video[0]
            video = _metadata(name, container, stream)
    except av.error.FFmpegError as error:
        raise InputError(f"{name}: not a readable video ({error.strerror or type(error).__name__}); "
                         f"supported: {_suffixes()} in any codec FFmpeg decodes") from None
    _check_limits(video, limits)
    return video


def _metadata(name: str, container, stream) -> Video:
    if stream.codec_context is None or not stream.width or not stream.height:
        raise InputError(f"{name}: the video stream has no frames FFmpeg can decode here")
    rate = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / 1_000_000
    else:
        duration = (stream.frames or 0) / rate
    frames = int(stream.frames or round(duration * rate))
    return Video(name, int(stream.width), int(stream.height), rate, frames, duration, stream.codec_context.name)


def _check_limits(video: Video, limits: VideoLimits) -> None:
    if video.duration_s > limits.max_duration_s:
        raise InputError(f"{video.path}: {video.duration_s:.0f} s long; the limit is {limits.max_duration_s:g} s "
                         "(cut the clip first)")
    if video.width * video.height > limits.max_pixels:
        raise InputError(f"{video.path}: {video.width}x{video.height} frames; the limit is "
                         f"{limits.max_pixels / 1e6:.1f} megapixels a frame (3840x2160)")
    if video.frame_count > limits.max_frames:
        raise InputError(f"{video.path}: {video.frame_count} frames; the limit is {limits.max_frames}")


def default_fps(video: Video, purpose: str = "track") -> float:
    """Samples per second for ``purpose`` (``track``: following objects; ``time``: when something is seen;
    ``frames``: anything else), lowered so that at most ``MAX_DEFAULT_FRAMES`` frames are analysed but not
    below ``MIN_DEFAULT_FPS`` (a long clip then takes longer), and never above the video's own rate."""
    purpose = purpose if purpose in DEFAULT_FPS else "frames"
    wanted = DEFAULT_FPS[purpose]
    if video.duration_s > 0:
        wanted = max(min(wanted, MAX_DEFAULT_FRAMES / video.duration_s), MIN_DEFAULT_FPS[purpose])
    return round(min(wanted, video.fps), 3)


def check_fps(fps, video: Video) -> float:
    """``fps`` as a sampling rate for ``video``: a positive number, at most its own rate and ``MAX_FPS``."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise InputError(f"the sampling rate must be a positive number of frames per second; got {fps!r}")
    return float(min(fps, video.fps, MAX_FPS))


def frames(video: Video, fps: float, max_side: int = FRAME_MAX_SIDE) -> Frames:
    """``video`` sampled at ``fps`` (see ``sample``), as a value that decodes only while iterated."""
    return Frames(video, fps, lambda: sample(video, fps, max_side))


def sample(video: Video, fps: float, max_side: int = FRAME_MAX_SIDE) -> Iterator[tuple[float, Image]]:
    """``(time_s, Image)`` of the frames at ``fps`` per second, in order, scaled down to ``max_side``; one
    decoded frame in memory at a time. A frame is taken when its presentation time reaches the next sample
    time. Raises ``InputError`` when decoding fails part-way (the message gives the time) or the frames run on
    far past the duration the file declares (its limits were checked on that)."""
    import av

    width, height = _scaled(video.width, video.height, max_side)
    step, next_time, time = 1.0 / fps, 0.0, 0.0
    declared = video.duration_s or VideoLimits().max_duration_s
    longest = declared * 1.5 + 2.0   # the limits were checked on what the file declares
    try:
        with av.open(video.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for index, frame in enumerate(container.decode(stream)):
                time = float(frame.time) if frame.time is not None else index / video.fps
                if time > longest:
                    raise InputError(f"{video.path}: frames go on past {time:.0f} s, well beyond the "
                                     f"{video.duration_s:.0f} s the file declares (a damaged or disguised file)")
                if time + 1e-6 < next_time:
                    continue
                pixels = frame.to_ndarray(format="rgb24", width=width, height=height)
                yield round(time, 3), Image(np.ascontiguousarray(pixels, dtype=np.uint8), video.path)
                next_time = (math.floor(time / step + 1e-6) + 1) * step
    except av.error.FFmpegError as error:
        raise InputError(f"{video.path}: decoding failed at {time:.1f} s "
                         f"({error.strerror or type(error).__name__})") from None


def _scaled(width: int, height: int, max_side: int) -> tuple[int, int]:
    """``(width, height)`` scaled to fit ``max_side`` (aspect kept, even sizes for the scaler)."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def _suffixes() -> str:
    return ", ".join(sorted(VIDEO_SUFFIXES))

