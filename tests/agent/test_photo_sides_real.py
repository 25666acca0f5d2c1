"""Side-of-the-photo questions end to end (issue 22): the embedded ranking planner plans WHERE and the lite
tier answers with one of the offered sides on the shipped test photos (person.jpg: a black dog on the left, a
horse on the right; dog.jpg: a white car at the top right; dog_show.jpg: an umbrella on the right). Needs
`loupe models pull` (skips otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe.programs.images import load_image
from loupe.programs.parser import parse_program

PHOTOS = Path(__file__).parents[1] / "data" / "photos"


def _ready() -> bool:
    from loupe.agent.llm.embedded import gguf_path
    from loupe.tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


pytestmark = pytest.mark.skipif(not _ready(), reason="models not installed; run `loupe models pull`")


@pytest.fixture(scope="module")
def agent():
    from loupe.agent.api import Agent

    return Agent(llm="local", use_cache=False)


@pytest.mark.parametrize("photo, query, answer", [
    ("person.jpg", "Could you tell me whether the dog is on the left or on the right?", "left"),
    ("person.jpg", "which side is the horse on", "right"),
    ("person.jpg", "is the black dog on the left or right side", "left"),
    ("dog.jpg", "is the white car at the top or the bottom of the picture", "top"),
    ("dog_show.jpg", "umbrella left or right?", "right"),
])
def test_the_side_is_answered_with_an_offered_side(agent, photo, query, answer):
    result = agent.ask(load_image(PHOTOS / photo), query)
    assert result.status == "ok", (result.reason, result.errors)
    assert "WHERE" in [s.module for s in parse_program(result.program).steps]
    assert result.text == answer


def test_an_object_that_is_not_there_gets_no_side(agent):
    """No giraffe in dog.jpg: WHERE fails naming it, and no side is given as the answer."""
    result = agent.ask(load_image(PHOTOS / "dog.jpg"), "Is the giraffe on the left or the right?")
    assert not result.answered and result.text not in ("left", "right"), result
