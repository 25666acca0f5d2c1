"""Edits on video: every frame re-encoded at the source's rate, audio kept, only the objects' boxes changed."""

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from programs.errors import ToolError
from programs.values import Obj, Objects
from programs.video_values import FrameObjects
from tools.context import ToolContext
from tools.video import probe
from tools.video_edits import BlurFrames
from tools.video_writer import rewrite

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
