"""The video side of the language: the input VIDEO, HuggingGPT task names for the video modules, and the
video program library (``loupe/programs/library/video``, apart from the image library so that image planners
never retrieve a program over frames).

The modules themselves (FRAMES, LOC_FRAMES, TRACK, COUNT_TRACKS, FIRST_SEEN, LAST_SEEN, SEEN_FOR,
COUNT_FRAMES, BLUR_FRAMES, COLORPOP_FRAMES, BGBLUR_FRAMES) are tools (``loupe.tools.video_tools``); the values they pass are in ``loupe.programs.video_values``.
"""

from __future__ import annotations

import os.path
from typing import Mapping

from loupe.programs.examples_library import LIBRARY_DIR, Example, load_library
from loupe.programs.ir import Program
from loupe.programs.tasks import TaskAlias
from loupe.programs.values import ValueType

VIDEO_INPUTS: Mapping[str, ValueType] = {"VIDEO": ValueType.VIDEO}
VIDEO_LIBRARY_DIR = LIBRARY_DIR / "video"
_TRACKS_IN = {"video": "tracks", "objects": "tracks", "image": "tracks", "box": "tracks"}
VIDEO_TASK_ALIASES: dict[str, TaskAlias] = {
    "video-frame-sampling": TaskAlias("FRAMES", {"image": "video", "rate": "fps"}),
    "video-object-detection": TaskAlias("LOC_FRAMES", {"video": "frames", "image": "frames", "text": "object",
                                                       "label": "object"}),
    "object-tracking": TaskAlias("TRACK", {"video": "objects", "image": "objects", "box": "objects"}),
    "multi-object-tracking": TaskAlias("TRACK", {"video": "objects", "image": "objects", "box": "objects"}),
    "video-object-counting": TaskAlias("COUNT_TRACKS", _TRACKS_IN),
    "first-appearance": TaskAlias("FIRST_SEEN", _TRACKS_IN),
    "last-appearance": TaskAlias("LAST_SEEN", _TRACKS_IN),
    "visible-duration": TaskAlias("SEEN_FOR", _TRACKS_IN),
    "frame-object-counting": TaskAlias("COUNT_FRAMES", {"video": "objects", "image": "objects", "text": "at"}),
    "video-object-blur": TaskAlias("BLUR_FRAMES", {"image": "video", "box": "objects", "object": "objects"}),
    "video-color-pop": TaskAlias("COLORPOP_FRAMES", {"image": "video", "box": "tracks", "object": "tracks"}),
    "video-background-blur": TaskAlias("BGBLUR_FRAMES", {"image": "video", "box": "tracks", "object": "tracks"}),
}
VIDEO_PREFIX = {"FRAMES": "FRAMES", "LOC_FRAMES": "BOX", "TRACK": "TRACK", "COUNT_TRACKS": "ANSWER",
                "FIRST_SEEN": "ANSWER", "LAST_SEEN": "ANSWER", "SEEN_FOR": "ANSWER", "COUNT_FRAMES": "ANSWER",
                "BLUR_FRAMES": "VIDEO", "COLORPOP_FRAMES": "VIDEO", "BGBLUR_FRAMES": "VIDEO"}
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".3gp", ".ts", ".ogv"})


def looks_like_video_file(name: str) -> bool:
    """Whether ``name`` names a video file by its suffix (``clip.mp4``); in a task list it is the input VIDEO."""
    return os.path.splitext(name.strip())[1].lower() in VIDEO_SUFFIXES


def reads_video(program: Program) -> bool:
    """Whether a step of ``program`` reads the input VIDEO."""
    return any(ref.name == "VIDEO" for step in program.steps for ref in step.refs())


def load_video_library() -> list[Example]:
    """The video program library (see ``loupe.programs.examples_library`` for its format)."""
    return load_library(VIDEO_LIBRARY_DIR)
