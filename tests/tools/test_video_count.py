"""The lite tier's people count on a real clip, against the count made by eye (tests/data/video/labels.json).

Needs the lite model pack (`loupe models pull`); skips without it."""

import json
from pathlib import Path

import pytest

from loupe.tools.video import default_fps, frames, probe

DATA = Path(__file__).resolve().parents[1] / "data" / "video"
LABELS = json.loads((DATA / "labels.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def video_registry():
    from loupe.tools.lite.pack import cache_dir, is_pulled
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings
    from loupe.tools.video_tools import register_video_tools

    if not is_pulled(cache_dir()):
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    registry = default_registry(Settings.from_env(), plugins=False)
    register_video_tools(registry)
    return registry


def found_people(video_registry, name):
    """People found per frame on a clip at the default counting rate."""
    video = probe(DATA / name)
    return video_registry.tool("LOC_FRAMES").execute(frames=frames(video, default_fps(video, "track")),
                                                     object="person")


@pytest.fixture(scope="module")
def people(video_registry):
    return found_people(video_registry, "pedestrians.mp4")


def test_distinct_people_within_one_of_the_eye_count(video_registry, people):
    tracks = video_registry.tool("TRACK").execute(objects=people)
    assert abs(len(tracks) - LABELS["pedestrians.mp4"]["people"]) <= 1
    assert all(0.0 <= t.first_s <= t.last_s <= 6.0 for t in tracks)
    # three people are in view from the start (labels.json's notes)
    assert sum(t.first_s <= 0.5 for t in tracks) == 3


def test_the_cut_labelled_after_tuning_is_counted_within_one_too(video_registry):
    tracks = video_registry.tool("TRACK").execute(objects=found_people(video_registry, "pedestrians_later.mp4"))
    assert abs(len(tracks) - LABELS["pedestrians_later.mp4"]["people"]) <= 1
    # the one in the red jacket enters at about 2 s (labels.json's notes)
    assert any(1.5 <= t.first_s <= 2.5 for t in tracks)


def test_the_most_people_in_view_at_once_is_about_the_eye_count(video_registry, people):
    most = video_registry.tool("COUNT_FRAMES").execute(objects=people, at="max")
    assert abs(most - LABELS["pedestrians.mp4"]["people"]) <= 1
