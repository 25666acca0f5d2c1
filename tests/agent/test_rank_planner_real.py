"""The embedded SmolLM2-135M ranking planner end to end on the shipped test photos: it picks the right
program (objects, logic) and the lite tier answers correctly. Needs `loupe models pull` (skips otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from programs.images import load_image
from programs.parser import parse_program

PHOTOS = Path(__file__).parents[1] / "data" / "photos"


def _ready() -> bool:
    from agent.llm.embedded import gguf_path
    from tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


pytestmark = pytest.mark.skipif(not _ready(), reason="models not installed; run `loupe models pull`")


@pytest.fixture(scope="module")
def agent():
    from agent.api import Agent

    return Agent(llm="local", use_cache=False)   # --planner auto: ranks with the local model


def _locs(program_text):
    return [s.arg("object") for s in parse_program(program_text).steps if s.module == "LOC"]


@pytest.mark.parametrize("photo, query, locs, expr_has, answer", [
    ("dog.jpg", "Is there a dog but no cat or horse?", ["dog", "cat", "horse"], "== 0 and", "yes"),
    ("dog.jpg", "Can you see both a bicycle and a dog?", ["bicycle", "dog"], "> 0 and", "yes"),
    ("horses.jpg", "Are there more horses than people?", ["horse", "person"], "> {ANSWER1}", "yes"),
    ("horses.jpg", "Is there a cat or a dog in this picture?", ["cat", "dog"], "> 0 or", "no"),
])
def test_the_embedded_ranker_picks_the_right_program(agent, photo, query, locs, expr_has, answer):
    result = agent.ask(load_image(PHOTOS / photo), query)
    assert result.ok, result.errors
    assert agent.deps.planner_kind == "rank" and result.ranking
    assert _locs(result.program) == locs
    assert expr_has in result.program
    assert result.text == answer


def test_counting_on_a_real_photo(agent):
    result = agent.ask(load_image(PHOTOS / "horses.jpg"), "Count the horses in this photo.")
    assert [s.module for s in parse_program(result.program).steps] == ["LOC", "COUNT", "RESULT"]
    assert 3 <= int(result.text) <= 5
