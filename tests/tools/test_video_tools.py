"""The video tools on made-up detections: tracking, counting and timing (no models)."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.programs.video_values import FrameObjects, Track, Tracks
from loupe.tools.backends import BackendSpec
from loupe.tools.context import ToolContext
from loupe.tools.registry import ToolRegistry
from loupe.tools.video import frames, probe
from loupe.tools.video_tools import FRAME_BATCH, TRACK_MEMORY_S, register_video_tools
from loupe.tools.video_tracking import track

PEDESTRIANS = Path(__file__).resolve().parents[1] / "data" / "video" / "pedestrians.mp4"
SIZE = (640, 480)
BATCHES: list = []


class Boxes:
    """A LOC backend that records its batch sizes and finds one 'person' per frame."""

    def __init__(self, context):
        pass

    def run_batch(self, calls):
        BATCHES.append(len(calls))
        return [Objects((Obj((10, 10, 50, 120), "person", 0.8),), c["image"].size) for c in calls]


def registry() -> ToolRegistry:
    context = ToolContext()
    context.add_backend(BackendSpec("LOC", "boxes", f"{__name__}:Boxes"))
    tools = ToolRegistry(context)
    from loupe.tools.loc import Loc

    tools.register(Loc)
    register_video_tools(tools)
    return tools


def walkers(seconds: int, fps: float, starts: list[tuple[float, float, float]], static: float = 0.0):
    """FrameObjects of people walking right at 40 px/s: ``starts`` = (first second, x, score); ``static``:
    the score of a box that never moves (a stone), 0 for none."""
    frames_ = []
    for k in range(int(seconds * fps)):
        time = k / fps
        items = [Obj((x + 40 * (time - t0), 200, x + 40 * (time - t0) + 30, 280), "person", score)
                 for t0, x, score in starts if time >= t0]
        stone = (Obj((500, 400, 520, 420), "person", static),) if static else ()
        frames_.append((time, Objects(tuple(items) + stone, SIZE, "person", sure_score=0.45)))
    return FrameObjects(tuple(frames_), fps, seconds, "person")


def test_people_walking_are_one_track_each_with_their_times():
    tracks = track(walkers(8, 2.0, [(0, 20, 0.8), (3, 300, 0.7)]), TRACK_MEMORY_S)
    assert len(tracks) == 2
    assert [(t.first_s, t.last_s) for t in tracks] == [(0.0, 7.5), (3.0, 7.5)]
    assert all(t.label == "person" for t in tracks)


def test_a_box_the_detector_was_never_sure_of_is_no_track():
    tracks = track(walkers(6, 4.0, [(1, 20, 0.8)], static=0.37), TRACK_MEMORY_S)
    assert len(tracks) == 1 and tracks.items[0].first_s == 1.0


def test_loc_frames_runs_loc_on_every_frame_in_small_batches():
    BATCHES.clear()
    found = registry().tool("LOC_FRAMES").execute(frames=frames(probe(PEDESTRIANS), 5.0), object="person")
    assert len(found) == 30 and sum(BATCHES) == 30 and max(BATCHES) <= FRAME_BATCH
    assert found.sought == "person" and found.seen_at()[0] == 0.0


def test_frames_tool_picks_a_rate_when_given_none():
    video = probe(PEDESTRIANS)
    assert registry().tool("FRAMES").execute(video=video, fps=None).fps == 4.0
    assert registry().tool("FRAMES").execute(video=video, fps=2).fps == 2.0


def test_count_frames_sums_up_per_frame_counts_over_time():
    objects = walkers(4, 2.0, [(0, 20, 0.8), (1, 200, 0.8), (2, 400, 0.8)])   # 1, 1, 2, 2, 3, 3, 3, 3
    count = registry().tool("COUNT_FRAMES")
    assert [count.execute(objects=objects, at=at) for at in ("start", "end", "max", "mean")] == [1, 3, 3, 2.25]
    with pytest.raises(ToolError, match="one of start, end, max, mean"):
        count.execute(objects=objects, at="middle")


def _tracks(*spans) -> Tracks:
    return Tracks(tuple(Track(i, "dog", ((a, (0, 0, 1, 1)), (b, (0, 0, 1, 1)))) for i, (a, b) in enumerate(spans)),
                  20.0, "dog")


def test_times_of_tracks():
    tools = registry()
    tracks = _tracks((2.0, 5.0), (4.0, 6.0), (10.0, 12.5))
    assert tools.tool("FIRST_SEEN").execute(tracks=tracks) == 2.0
    assert tools.tool("LAST_SEEN").execute(tracks=tracks) == 12.5
    assert tools.tool("SEEN_FOR").execute(tracks=tracks) == 6.5   # 2-6 and 10-12.5
    assert tools.tool("COUNT_TRACKS").execute(tracks=tracks) == 3


def test_timing_nothing_says_what_was_not_seen():
    with pytest.raises(ToolError, match="no dog was seen in the video"):
        registry().tool("FIRST_SEEN").execute(tracks=_tracks())
    assert registry().tool("SEEN_FOR").execute(tracks=_tracks()) == 0.0


def test_no_frames_no_count():
    with pytest.raises(ToolError, match="no frames"):
        registry().tool("COUNT_FRAMES").execute(objects=FrameObjects((), 2.0, 0.0), at="end")


def test_a_frame_without_objects_keeps_tracks_going():
    objects = walkers(6, 2.0, [(0, 20, 0.8)])
    gap = tuple((t, o if not 2.0 <= t < 3.0 else Objects((), SIZE)) for t, o in objects.frames)
    tracks = track(FrameObjects(gap, 2.0, 6.0, "person"), TRACK_MEMORY_S)
    assert len(tracks) == 1 and tracks.items[0].last_s == 5.5
    assert np.isclose(tracks.items[0].first_s, 0.0)


def test_image_values_are_not_videos():
    from loupe.programs.values import ValueType, type_of

    assert type_of(Image(np.zeros((2, 2, 3), np.uint8))) is ValueType.IMAGE
    assert type_of(_tracks()) is ValueType.TRACKS
