"""Edits on video: every frame re-encoded at the source's rate, audio kept, only the objects' boxes changed."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Obj, Objects
from loupe.programs.video_values import FrameObjects, Track, Tracks
from loupe.tools.context import ToolContext
from loupe.tools.video import probe
from loupe.tools.video_edits import BgBlurFrames, BlurFrames, ColorPopFrames
from loupe.tools.video_writer import rewrite

MEGAMIND = Path(__file__).resolve().parents[1] / "data" / "video" / "megamind.mp4"
BOX = (100, 40, 200, 140)   # in a 180x132 sampled frame: half the video's 360x264


def frame_at(path, index: int) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError(f"{path} has no frame {index}")


def with_sound(tmp_path) -> Path:
    """The megamind clip with a second of 440 Hz tone as AAC."""
    import av

    target = tmp_path / "sound.mp4"
    with av.open(str(MEGAMIND)) as source, av.open(str(target), "w") as out:
        picture = out.add_stream_from_template(source.streams.video[0])
        audio = out.add_stream("aac", rate=44100, layout="mono")
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = picture
                out.mux(packet)
        tone = (np.sin(2 * np.pi * 440 * np.arange(44100) / 44100) * 0.3).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 44100, 0, Fraction(1, 44100)
        out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return target


def test_rewrite_keeps_rate_frames_size_and_audio(tmp_path):
    import av

    source = probe(with_sound(tmp_path))
    written = rewrite(source, str(tmp_path / "out.mp4"), lambda time, image: image)
    assert (written.width, written.height, written.frame_count) == (source.width, source.height, source.frame_count)
    assert written.fps == pytest.approx(source.fps, abs=1e-3)
    with av.open(written.path) as container:
        assert len(container.streams.audio) == 1
        assert float(container.streams.audio[0].duration * container.streams.audio[0].time_base) == pytest.approx(1.0, abs=0.1)


def test_blur_frames_changes_the_boxes_and_nothing_else(tmp_path):
    video = probe(MEGAMIND)
    found = FrameObjects(tuple((t, Objects((Obj(BOX, "face", 0.9),), (180, 132))) for t in (0.0, 1.0)), 1.0, 2.0,
                         "face")
    blurred = BlurFrames(ToolContext()).execute(video=video, objects=found)
    plain = rewrite(video, str(tmp_path / "plain.mp4"), lambda time, image: image)
    assert blurred.frame_count == video.frame_count and blurred.fps == pytest.approx(video.fps, abs=1e-3)
    changed = np.abs(frame_at(blurred.path, 12) - frame_at(plain.path, 12)).mean(axis=2)
    x1, y1, x2, y2 = (2 * v for v in BOX)   # the box scaled to the video's size
    inside = np.zeros(changed.shape, bool)
    inside[y1:y2, x1:x2] = True
    assert changed[inside].mean() > 8 and changed[~inside].mean() < 2


def test_nothing_to_blur_is_an_error_naming_what():
    found = FrameObjects(((0.0, Objects((), (180, 132))),), 1.0, 2.0, "face")
    with pytest.raises(ToolError, match="no face was found in the video; nothing to blur"):
        BlurFrames(ToolContext()).execute(video=probe(MEGAMIND), objects=found)


def walking_track(frame_size=(180, 132)) -> Tracks:
    """One track moving right by 40 px a second, seen at 0, 1 and 2 s, in 180x132 sampled frames."""
    seen = tuple((t, (20 + 40 * t, 30, 70 + 40 * t, 110)) for t in (0.0, 1.0, 2.0))
    return Tracks((Track(1, "person", seen, 0.9),), 2.0, "person", frame_size)


def test_a_track_box_moves_between_sightings_and_ends_after_the_last():
    track = walking_track().items[0]
    assert track.box_at(0.5) == pytest.approx((40, 30, 90, 110))
    assert track.box_at(2.4) == pytest.approx((100, 30, 150, 110))   # within half a gap after the last
    assert track.box_at(2.6) is None and track.box_at(-0.6) is None


@pytest.mark.parametrize("tool, background_is", [(ColorPopFrames, "grey"), (BgBlurFrames, "blurred")])
def test_keeping_a_tracked_object_changes_only_the_rest_of_each_frame(tmp_path, tool, background_is):
    import av

    source = probe(with_sound(tmp_path))
    edited = tool(ToolContext()).execute(video=source, tracks=walking_track())
    plain = rewrite(source, str(tmp_path / "plain.mp4"), lambda time, image: image)
    assert edited.frame_count == source.frame_count and edited.fps == pytest.approx(source.fps, abs=1e-3)
    with av.open(edited.path) as container:
        assert len(container.streams.audio) == 1
    index = 12   # 0.5 s: the box half-way between the sightings at 0 and 1 s, at the video's 360x264
    x1, y1, x2, y2 = (2 * v for v in (40, 30, 90, 110))
    inside = np.zeros((source.height, source.width), bool)
    inside[y1 + 4:y2 - 4, x1 + 4:x2 - 4] = True
    outside = np.ones_like(inside)
    outside[max(0, y1 - 20):y2 + 20, max(0, x1 - 20):x2 + 20] = False
    after, before = frame_at(edited.path, index), frame_at(plain.path, index)
    changed = np.abs(after - before).mean(axis=2)
    assert changed[inside].mean() < 2
    if background_is == "grey":
        spread = after.max(axis=2) - after.min(axis=2)   # R == G == B, up to the encoder's rounding
        assert spread[outside].mean() < 4 < (before.max(axis=2) - before.min(axis=2))[outside].mean()
    else:
        assert changed[outside].mean() > 3


def test_nothing_tracked_is_an_error_naming_what():
    with pytest.raises(ToolError, match="no dog was tracked in the video; nothing to keep in colour"):
        ColorPopFrames(ToolContext()).execute(video=probe(MEGAMIND), tracks=Tracks((), 2.0, "dog", (180, 132)))


def test_only_an_edit_s_own_video_counts_as_written_by_an_edit(tmp_path):
    from loupe.tools.video_edits import written_by_an_edit

    video = probe(MEGAMIND)
    blurred = BlurFrames(ToolContext()).execute(video=video, objects=FrameObjects(
        ((0.0, Objects((Obj(BOX, "face", 0.9),), (180, 132))),), 1.0, 2.0, "face"))
    assert written_by_an_edit(blurred) and not written_by_an_edit(video)
