"""The video decoder: probe, limits, streaming samples and clear errors (loupe/tools/video.py)."""

from pathlib import Path
import types

import numpy as np
import pytest

from loupe.programs.errors import InputError
from loupe.programs.video_values import Video
from loupe.tools.video import (MAX_DEFAULT_FRAMES, VideoLimits, check_fps, default_fps, frames, is_video_path, probe,
                         sample)

DATA = Path(__file__).resolve().parents[1] / "data" / "video"
PEDESTRIANS = DATA / "pedestrians.mp4"
MEGAMIND = DATA / "megamind.mp4"


def test_probe_reads_what_the_container_declares():
    video = probe(PEDESTRIANS)
    assert (video.width, video.height, video.fps, video.frame_count, video.codec) == (640, 480, 10.0, 60, "h264")
    assert video.duration_s == pytest.approx(6.0)
    other = probe(MEGAMIND)
    assert other.fps == pytest.approx(23.976, abs=1e-3) and other.frame_count == 48


def test_sampling_takes_the_first_frame_at_or_after_each_sample_time():
    times = [t for t, _ in sample(probe(PEDESTRIANS), 2.0)]
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5]
    times = [t for t, _ in sample(probe(MEGAMIND), 4.0)]
    assert len(times) == 8 and times[0] == 0.0
    assert all(0.2 < b - a < 0.3 for a, b in zip(times, times[1:]))


def test_frames_are_rgb_images_scaled_to_the_longer_side():
    time, image = next(iter(sample(probe(PEDESTRIANS), 1.0, max_side=320)))
    assert time == 0.0 and image.size == (320, 240) and image.pixels.dtype == np.uint8
    assert image.pixels.std() > 10   # a real picture, not a blank frame


def test_frames_decode_only_while_iterated_and_can_be_read_again():
    sampled = frames(probe(PEDESTRIANS), 5.0)
    stream = sampled.decode()
    assert isinstance(stream, types.GeneratorType)
    first, _ = next(stream)
    stream.close()
    assert first == 0.0
    assert len(list(sampled)) == len(list(sampled)) == sampled.expected_count == 30


def test_default_rate_depends_on_the_purpose_and_the_length():
    def clip(seconds, fps=25.0):
        return Video("x.mp4", 1280, 720, fps, int(seconds * fps), seconds)

    assert default_fps(clip(6), "track") == 4.0 and default_fps(clip(6), "time") == 2.0
    assert default_fps(clip(60), "track") == MAX_DEFAULT_FRAMES / 60   # 2 fps: at most 120 frames
    assert default_fps(clip(600), "track") == 1.5                      # never below what tracking needs
    assert default_fps(clip(6, fps=1.0), "track") == 1.0                # never above the video's own rate


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True, "2"])
def test_a_bad_rate_is_refused(bad):
    with pytest.raises(InputError, match="positive number of frames per second"):
        check_fps(bad, probe(PEDESTRIANS))


def test_a_rate_above_the_videos_own_is_the_videos_own():
    assert check_fps(50, probe(PEDESTRIANS)) == 10.0


@pytest.mark.parametrize("limits, message", [
    (VideoLimits(max_duration_s=2), "6 s long; the limit is 2 s"),
    (VideoLimits(max_pixels=100_000), "640x480 frames; the limit is 0.1 megapixels"),
    (VideoLimits(max_frames=50), "60 frames; the limit is 50"),
    (VideoLimits(max_bytes=1000), "over the limit of"),
])
def test_limits_are_named_in_the_message(limits, message):
    with pytest.raises(InputError, match=message):
        probe(PEDESTRIANS, limits)


def test_a_missing_file_is_named():
    with pytest.raises(InputError, match="no such video file"):
        probe(DATA / "nowhere.mp4")


def test_a_corrupt_file_is_not_a_readable_video(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="broken.mp4: not a readable video"):
        probe(bad)


def test_a_file_without_pictures_says_so(tmp_path):
    import av

    path = tmp_path / "sound.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(InputError, match="no video stream"):
        probe(path)


def test_video_paths_are_told_by_their_suffix():
    assert is_video_path("clip.MP4") and is_video_path(Path("a/b.avi"))
    assert not is_video_path("photo.jpg") and not is_video_path(None)


def test_frames_running_far_past_the_declared_length_are_refused():
    video = probe(PEDESTRIANS)
    lying = Video(video.path, video.width, video.height, video.fps, 2, 0.2, video.codec)   # says 0.2 s, is 6 s
    with pytest.raises(InputError, match="well beyond the 0 s the file declares"):
        list(sample(lying, 10.0))
