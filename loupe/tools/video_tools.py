"""The tools of programs over videos: frames, per-frame LOC, tracks, and answers about time.

    FRAMES0=FRAMES(video=VIDEO)                      # sampled at a rate chosen from the clip (or fps=...)
    BOX0=LOC_FRAMES(frames=FRAMES0,object='person')  # LOC on every sampled frame, a few frames per batch
    TRACK0=TRACK(objects=BOX0)                       # ByteTrack: the same person across frames is one track
    ANSWER0=COUNT_TRACKS(tracks=TRACK0)              # distinct people
    FINAL_RESULT=RESULT(var=ANSWER0)

They are registered by ``register_video_tools`` where a video is the input (the image planners' prompts and
candidates stay as they were). Times are seconds from the start of the video.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from loupe.programs.errors import Diagnostic, ToolError
from loupe.programs.values import ValueType
from loupe.programs.video_values import FrameObjects, Track
from loupe.tools.base import Param, Tool
from loupe.tools.injected import check_between
from loupe.tools.video import default_fps, check_fps, frames

FRAME_BATCH = 4          # frames LOC sees in one batch: the detector runs them one by one on the CPU anyway
TRACK_MEMORY_S = 2.0     # a track unseen for this long ends (a person hidden behind another for a moment)
AGGREGATES = ("start", "end", "max", "mean")
EDGE_S = 1.0             # "start"/"end": the median count over the first/last second


class FramesTool(Tool):
    name = "FRAMES"
    description = ("Samples the frames of a video, at fps frames per second (None: a rate chosen from the clip's "
                   "length, for tracking). The frames are decoded only while a later step reads them.")
    inputs = {"video": Param(ValueType.VIDEO, "the video"),
              "fps": Param(ValueType.NUMBER, "frames per second to sample, e.g. 2", None)}
    output = ValueType.FRAMES
    cheap = True
    examples = ("FRAMES0=FRAMES(video=VIDEO)",)

    def execute(self, video, fps):
        return frames(video, default_fps(video, "track") if fps is None else check_fps(fps, video))


class LocFrames(Tool):
    name = "LOC_FRAMES"
    description = ("Finds every instance of a named object in each sampled frame (LOC on every frame, in "
                   "batches). Frames are decoded as they are needed and not kept.")
    inputs = {"frames": Param(ValueType.FRAMES, "the frames, from FRAMES"),
              "object": Param(ValueType.TEXT, "what to find, e.g. 'person' or 'car'")}
    output = ValueType.FRAME_OBJECTS
    examples = ("BOX0=LOC_FRAMES(frames=FRAMES0,object='person')",)

    def execute(self, frames, object):
        loc = self._loc()
        found: list = []
        batch: list = []
        for time, image in frames:
            batch.append((time, image))
            if len(batch) == FRAME_BATCH:
                check_between()  # a cancelled run stops here, not after the last batch
                found += _located(loc, batch, object)
                batch = []
        found += _located(loc, batch, object)
        return FrameObjects(tuple(found), frames.fps, frames.video.duration_s, object)

    def backend_name(self) -> str:
        return self._loc().backend_name()

    def _loc(self):
        """The LOC tool whose checks and backend every frame goes through (one per tool context)."""
        from loupe.tools.loc import Loc

        return self.context.shared("video-loc", lambda: Loc(self.context))


def _located(loc, batch, name: str) -> list:
    if not batch:
        return []
    results = loc.execute_batch([{"image": image, "object": name} for _, image in batch])
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [(time, objects) for (time, _), objects in zip(batch, results)]


class TrackTool(Tool):
    name = "TRACK"
    description = ("Follows the objects found in each frame through the video (ByteTrack): the same object in "
                   "many frames becomes one track, with the times it was seen.")
    inputs = {"objects": Param(ValueType.FRAME_OBJECTS, "objects per frame, from LOC_FRAMES")}
    output = ValueType.TRACKS
    examples = ("TRACK0=TRACK(objects=BOX0)",)

    def execute(self, objects):
        from loupe.tools.video_tracking import track

        return track(objects, TRACK_MEMORY_S)


class CountTracks(Tool):
    name = "COUNT_TRACKS"
    description = "Counts the distinct objects followed through a video (how many passed, entered or appeared)."
    inputs = {"tracks": Param(ValueType.TRACKS, "the tracks, from TRACK")}
    output = ValueType.NUMBER
    cheap = True
    examples = ("ANSWER0=COUNT_TRACKS(tracks=TRACK0)",)

    def execute(self, tracks):
        return len(tracks)


class _OverTracks(Tool):
    """A cheap answer about time from tracks (seconds from the start of the video)."""

    abstract = True
    inputs = {"tracks": Param(ValueType.TRACKS, "the tracks, from TRACK")}
    output = ValueType.NUMBER
    cheap = True

    def execute(self, tracks):
        if not len(tracks):
            raise ToolError(f"no {tracks.sought or 'object'} was seen in the video "
                            f"({tracks.duration_s:.1f} s); nothing to time")
        return self.seconds(tracks.items)

    def seconds(self, tracks: tuple[Track, ...]) -> float:
        raise NotImplementedError


class FirstSeen(_OverTracks):
    name = "FIRST_SEEN"
    description = "The time in seconds from the start of the video at which the first tracked object appears."
    examples = ("ANSWER0=FIRST_SEEN(tracks=TRACK0)",)

    def seconds(self, tracks):
        return min(track.first_s for track in tracks)


class LastSeen(_OverTracks):
    name = "LAST_SEEN"
    description = "The time in seconds from the start of the video at which the last tracked object is last seen."
    examples = ("ANSWER0=LAST_SEEN(tracks=TRACK0)",)

    def seconds(self, tracks):
        return max(track.last_s for track in tracks)


class SeenFor(_OverTracks):
    name = "SEEN_FOR"
    description = ("How many seconds at least one tracked object is in view (the union of the tracks' times; 0 "
                   "when none is), for 'how long' questions.")
    examples = ("ANSWER0=SEEN_FOR(tracks=TRACK0)",)

    def execute(self, tracks):
        return self.seconds(tracks.items) if len(tracks) else 0.0   # never in view: for 0 s

    def seconds(self, tracks):
        spans = sorted((track.first_s, track.last_s) for track in tracks)
        total, start, end = 0.0, *spans[0]
        for first, last in spans[1:]:
            if first > end:
                total, start, end = total + end - start, first, last
            else:
                end = max(end, last)
        return round(total + end - start, 2)


class CountFrames(Tool):
    name = "COUNT_FRAMES"
    description = ("Counts the objects found per frame and sums the counts up over time: at='start' or 'end' "
                   "(the median over the first or last second), 'max' or 'mean'.")
    inputs = {"objects": Param(ValueType.FRAME_OBJECTS, "objects per frame, from LOC_FRAMES"),
              "at": Param(ValueType.TEXT, "start, end, max or mean", "end")}
    output = ValueType.NUMBER
    cheap = True
    examples = ("ANSWER0=COUNT_FRAMES(objects=BOX0,at='end')",)

    @classmethod
    def check(cls, args: Mapping, line: int) -> list[Diagnostic]:
        at = args.get("at", "end")
        if isinstance(at, str) and at not in AGGREGATES:
            return [Diagnostic(f"COUNT_FRAMES at must be one of {', '.join(AGGREGATES)}; got {at!r}", line, 0,
                               at)]
        return []

    def execute(self, objects, at):
        if at not in AGGREGATES:
            raise ToolError(f"COUNT_FRAMES at must be one of {', '.join(AGGREGATES)}; got {at!r}")
        if not len(objects):
            raise ToolError("no frames were sampled from the video")
        counts = np.array([len(found) for _, found in objects.frames])
        times = np.array([time for time, _ in objects.frames])
        if at == "max":
            return int(counts.max())
        if at == "mean":
            return round(float(counts.mean()), 2)
        edge = times <= times[0] + EDGE_S if at == "start" else times >= times[-1] - EDGE_S
        return int(round(float(np.median(counts[edge]))))


def video_tools() -> tuple[type[Tool], ...]:
    """Every video tool: these, and the edits (``loupe.tools.video_edits``)."""
    from loupe.tools.video_edits import BgBlurFrames, BlurFrames, ColorPopFrames

    return (FramesTool, LocFrames, TrackTool, CountTracks, FirstSeen, LastSeen, SeenFor, CountFrames, BlurFrames,
            ColorPopFrames, BgBlurFrames)


def register_video_tools(registry) -> None:
    """Add the video tools to ``registry`` (the same ``register`` path a plugin uses)."""
    for tool in video_tools():
        registry.register(tool)
