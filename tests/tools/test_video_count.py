"""The lite tier's people count on a real clip, against the count made by eye (tests/data/video/labels.json).

Needs the lite model pack (`loupe models pull`); skips without it."""

import json
from pathlib import Path

import pytest

from tools.video import default_fps, frames, probe

DATA = Path(__file__).resolve().parents[1] / "data" / "video"
LABELS = json.loads((DATA / "labels.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def video_registry():
    from tools.lite.pack import cache_dir, is_pulled
    from tools.registry import default_registry
    from tools.settings import Settings
    from tools.video_tools import register_video_tools

    if not is_pulled(cache_dir()):
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    registry = default_registry(Settings.from_env(), plugins=False)
    register_video_tools(registry)
    return registry


@pytest.fixture(scope="module")
def people(video_registry):
    """People found per frame on the pedestrians clip at the default counting rate."""
    video = probe(DATA / "pedestrians.mp4")
    return video_registry.tool("LOC_FRAMES").execute(frames=frames(video, default_fps(video, "track")),
                                                     object="person")


def test_distinct_people_within_one_of_the_eye_count(video_registry, people):
    tracks = video_registry.tool("TRACK").execute(objects=people)
    assert abs(len(tracks) - LABELS["pedestrians.mp4"]["people"]) <= 1
    assert all(0.0 <= t.first_s <= t.last_s <= 6.0 for t in tracks)
    # three people are in view from the start (labels.json's notes)
    assert sum(t.first_s <= 0.5 for t in tracks) == 3


def test_the_most_people_in_view_at_once_is_about_the_eye_count(video_registry, people):
    most = video_registry.tool("COUNT_FRAMES").execute(objects=people, at="max")
    assert abs(most - LABELS["pedestrians.mp4"]["people"]) <= 1
