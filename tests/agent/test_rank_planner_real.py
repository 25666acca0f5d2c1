"""The embedded SmolLM2-135M ranking planner end to end on the shipped test photos: it picks the right
program (objects, logic) and the lite tier answers correctly. Needs `loupe models pull` (skips otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe.programs.images import load_image
from loupe.programs.parser import parse_program
from loupe.tools.settings import Settings

PHOTOS = Path(__file__).parents[1] / "data" / "photos"


def _ready() -> bool:
    from loupe.agent.llm.embedded import gguf_path
    from loupe.tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


pytestmark = pytest.mark.skipif(not _ready(), reason="models not installed; run `loupe models pull`")


@pytest.fixture(scope="module")
def agent():
    from loupe.agent.api import Agent

    return Agent(llm="local", use_cache=False)   # --planner auto: ranks with the local model


def _locs(program_text):
    return [s.arg("object") for s in parse_program(program_text).steps if s.module == "LOC"]


@pytest.mark.parametrize("photo, query, locs, expr_has, answer", [
    ("dog.jpg", "Is there a dog but no cat or horse?", ["dog", "cat", "horse"], "== 0 and", "yes"),
    ("dog.jpg", "Can you see both a bicycle and a dog?", ["bicycle", "dog"], "> 0 and", "yes"),
    ("horses.jpg", "Are there more horses than people?", ["horse", "person"], "> {ANSWER1}", "yes"),
    ("horses.jpg", "Does this photo show a cat or a dog?", ["cat", "dog"], "> 0 or", "no"),
])
def test_the_embedded_ranker_picks_the_right_program(agent, photo, query, locs, expr_has, answer):
    result = agent.ask(load_image(PHOTOS / photo), query)
    assert result.answered, result.errors   # partial when the evidence was weak (issue 23)
    assert agent.deps.planner_kind == "rank" and result.ranking
    assert _locs(result.program) == locs
    assert expr_has in result.program
    assert result.text == answer


def test_counting_on_a_real_photo(agent):
    result = agent.ask(load_image(PHOTOS / "horses.jpg"), "Count the horses in this photo.")
    assert [s.module for s in parse_program(result.program).steps] == ["LOC", "COUNT", "RESULT"]
    assert 3 <= int(result.text) <= 5


def _replanned(answer) -> tuple[str, str]:
    """The first planned and the replanned program of an answer, as VisProg text (a task list read back)."""
    from loupe.programs.render import render
    from loupe.programs.tasks import parse_tasks
    from loupe.tools.registry import default_registry

    programs = [e for e in answer.events if e["event"] in ("plan", "replan")]
    assert [e["event"] for e in programs] == ["plan", "replan"], programs
    first = programs[0]["program"]
    if answer.mode == "tasks":
        first = render(parse_tasks(first, default_registry(Settings.from_env(), plugins=False).names()))
    return first, answer.program


@pytest.mark.parametrize("mode", ["program", "tasks"])
def test_after_a_crop_of_nothing_both_modes_read_the_whole_photo(mode):
    """No truck in the parking meter photo: the ranked crop-then-read program fails, and the replan of either
    mode (tasks mode through the same ranking planner) reads the whole photo and finds the meter's text."""
    from loupe.agent.api import Agent

    answer = Agent(llm="local", use_cache=False, mode=mode).ask(
        load_image(PHOTOS / "parking_meter.jpg"), "What does the sign on the truck say?")
    first, final = _replanned(answer)
    assert "LOC(image=IMAGE,object='truck')" in first and answer.ok, answer.errors
    assert "LOC" not in final and "OCR(image=IMAGE)" in final
    assert answer.text.upper() in ("WORDPRESS", "2146")  # the sticker or the number label: a line read there


@pytest.mark.parametrize("mode", ["program", "tasks"])
def test_a_refused_selection_is_replanned_as_the_same_edit_of_its_head_noun(mode):
    """The lite SELECT cannot ground 'bicycle by the fence': the replan keeps the edit with the head noun
    (SELECT 'bicycle', REPLACE 'a scooter'), and the lite REPLACE's refusal to paint, naming the GPU
    tier, is the answer, never another kind of program (a crop or a tag of the bicycle). (The pickup truck this
    test used is below the calibrated counting threshold since issue 23.)"""
    from loupe.agent.api import Agent

    answer = Agent(llm="local", use_cache=False, mode=mode).ask(
        load_image(PHOTOS / "dog.jpg"), "Turn the bicycle by the fence into a scooter.")
    first, final = _replanned(answer)
    assert "query='bicycle by the fence'" in first
    steps = parse_program(final).steps
    assert [s.module for s in steps] == ["SEG", "SELECT", "REPLACE", "RESULT"]
    assert steps[1].arg("query") == "bicycle" and steps[2].arg("prompt") == "a scooter"
    assert answer.status == "failed" and len(answer.errors) == 1
    assert "cannot paint 'a scooter'" in answer.errors[0] and "[gpu]'" in answer.errors[0]


# side-of-the-photo questions (issue 22): person.jpg has a black dog on the left and a horse on the right, dog.jpg a
# white car at the top right, dog_show.jpg an umbrella on the right; the answer is one of the offered sides
@pytest.mark.parametrize("photo, query, answer", [
    ("person.jpg", "Could you tell me whether the dog is on the left or on the right?", "left"),
    ("person.jpg", "which side is the horse on", "right"),
    ("person.jpg", "is the black dog on the left or right side", "left"),
    ("dog.jpg", "is the white car at the top or the bottom of the picture", "top"),
    ("dog_show.jpg", "umbrella left or right?", "right"),
    ("person.jpg", "Is the horse in the middle?", "no"),
    ("dog.jpg", "is the white car at the top", "yes"),
    ("dog.jpg", "Is the dog at the bottom of the photo?", "yes"),
])
def test_a_side_question_is_answered_with_an_offered_side(agent, photo, query, answer):
    result = agent.ask(load_image(PHOTOS / photo), query)
    assert result.answered and not result.coverage["unused"], (result.reason, result.errors)  # partial: weak evidence
    assert "WHERE" in [s.module for s in parse_program(result.program).steps]
    assert result.text == answer


def test_an_object_that_is_not_there_gets_no_side(agent):
    """No giraffe in dog.jpg: WHERE fails naming it, and no side is given as the answer."""
    result = agent.ask(load_image(PHOTOS / "dog.jpg"), "Is the giraffe on the left or the right?")
    assert not result.answered and result.text not in ("left", "right"), result
