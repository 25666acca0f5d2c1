"""Side-of-the-photo questions (issue 22): 'is the dog on the left or the right?' plans LOC then WHERE with the
sides the question offers, so that the answer is one of them; 'which side ...' chooses among left, middle and
right; a colour names the object to place (a SELECT). Wordings of our own: plain, courtesy, chat, lower case,
fragments, top/bottom, colour attributes."""

from __future__ import annotations

import pytest

from loupe.agent.planning.coverage import InstalledTools, assess
from loupe.agent.planning.rank_planner import RankPlanner
from loupe.agent.planning.reading import read_request
from loupe.agent.planning.retrieval import ExampleRetriever
from loupe.programs.examples_library import load_library
from loupe.programs.parser import parse_program
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
from tests.support.fake_llm import FakeLLM


def where(thing: str, sides: str, phrase: str = "") -> str:
    select = f"BOX1=SELECT(image=IMAGE,object=BOX0,query='{phrase}',category='{thing}')\n" if phrase else ""
    return (f"BOX0=LOC(image=IMAGE,object='{thing}')\n{select}"
            f"ANSWER0=WHERE(image=IMAGE,box=BOX{1 if phrase else 0},sides='{sides}')\nFINAL_RESULT=RESULT(var=ANSWER0)\n")


def is_at(thing: str, sides: str, side: str, phrase: str = "") -> str:
    return (where(thing, sides, phrase).replace("FINAL_RESULT=RESULT(var=ANSWER0)\n", "") +
            f"ANSWER1=EVAL(expr=\"'yes' if {{ANSWER0}} == '{side}' else 'no'\")\nFINAL_RESULT=RESULT(var=ANSWER1)\n")


WORDINGS = [
    # plain
    ("Is the horse on the left or the right?", where("horse", "left,right")),
    ("Is the bus on the right or on the left of the picture?", where("bus", "right,left")),
    ("Is the truck on the left side or on the right side?", where("truck", "left,right")),
    ("Which side is the umbrella on?", where("umbrella", "left,middle,right")),
    ("Which side of the image is the boat on?", where("boat", "left,middle,right")),
    ("On which side is the bench?", where("bench", "left,middle,right")),
    ("Where in the photo is the giraffe?", where("giraffe", "left,middle,right")),
    ("Is the sheep on the left, in the middle or on the right?", where("sheep", "left,middle,right")),
    # top / bottom
    ("Is the clock at the top or the bottom of the picture?", where("clock", "top,bottom")),
    ("is the bird at the top or the bottom", where("bird", "top,bottom")),
    ("Is the frisbee in the upper or the lower half of the photo?", where("frisbee", "upper,lower")),
    ("Is the cow at the bottom or at the top?", where("cow", "bottom,top")),
    # courtesy and indirect
    ("Could you tell me whether the cat is on the left or on the right?", where("cat", "left,right")),
    ("Can you please check if the elephant is on the left or the right?", where("elephant", "left,right")),
    ("I'd like to know which side the motorcycle is on.", where("motorcycle", "left,middle,right")),
    ("Do you know if the airplane is at the top or the bottom of the image?", where("airplane", "top,bottom")),
    ("I was wondering whether the zebra is on the left or right", where("zebra", "left,right")),
    ("Tell me which side the skateboard is on, please.", where("skateboard", "left,middle,right")),
    # chat and lower case
    ("is the dog on the left or right", where("dog", "left,right")),
    ("dog left or right?", where("dog", "left,right")),
    ("horse on the left or right pls", where("horse", "left,right")),
    ("which side r the bikes on", where("bicycle", "left,middle,right")),
    ("on which side are the cars", where("car", "left,middle,right")),
    ("kite at the top or bottom??", where("kite", "top,bottom")),
    ("is da cat on the left or the right", where("cat", "left,right")),
    # fragments
    ("the boat: left or right?", where("boat", "left,right")),
    ("left or right, the bus?", where("bus", "left,right")),
    ("train top or bottom", where("train", "top,bottom")),
    # colour attributes
    ("Is the white horse on the left or the right?", where("horse", "left,right", "white horse")),
    ("is the black dog on the left or right side", where("dog", "left,right", "black dog")),
    ("Which side is the red car on?", where("car", "left,middle,right", "red car")),
    ("Could you tell me if the yellow bus is at the top or the bottom?", where("bus", "top,bottom", "yellow bus")),
    ("green truck left or right", where("truck", "left,right", "green truck")),
    # yes/no about one side: that side or its opposite; the middle among left, middle and right
    ("Is the person in the middle?", is_at("person", "left,middle,right", "middle")),
    ("is the horse in the centre of the picture", is_at("horse", "left,centre,right", "centre")),
    ("Is the dog at the bottom of the photo?", is_at("dog", "bottom,top", "bottom")),
    ("can you tell me if the clock is at the top", is_at("clock", "top,bottom", "top")),
    ("is the white car at the top", is_at("car", "top,bottom", "top", "white car")),
]


@pytest.fixture(scope="module")
def planner():
    return RankPlanner(FakeLLM(), default_registry(Settings.from_env(), plugins=False),
                       ExampleRetriever(load_library()))


def test_there_are_enough_wordings():
    assert len(WORDINGS) >= 30


@pytest.mark.parametrize("query, program", WORDINGS)
def test_a_side_question_plans_where_with_the_offered_sides(planner, query, program):
    ranked = planner.rank(query, lm=False)
    assert ranked and ranked[0].program == program, (query, ranked[0].program if ranked else None)
    coverage = assess(read_request(query), parse_program(program), InstalledTools(planner.registry))
    assert coverage.status == "ok", (query, coverage)


@pytest.mark.parametrize("query, offered", [
    ("Is the dog on the left or the right?", ("left", "right")),
    ("is the bus at the top or the bottom of the picture", ("top", "bottom")),
    ("Is the sheep on the left, in the middle or on the right?", ("left", "middle", "right")),
])
def test_every_offered_side_is_a_side_the_program_may_answer(planner, query, offered):
    """A choice question is answered with one of its choices: WHERE's sides are exactly the choices offered."""
    program = parse_program(planner.rank(query, lm=False)[0].program)
    step = next(s for s in program.steps if s.module == "WHERE")
    assert tuple(step.arg("sides").split(",")) == offered


@pytest.mark.parametrize("query, unused", [
    ("Is the dog on the left or the right, near the top?", "top"),
    ("Is the bus at the top or the bottom, on the left?", "left"),
])
def test_a_side_word_the_program_does_not_use_is_reported(planner, query, unused):
    program = parse_program(planner.rank(query, lm=False)[0].program)
    coverage = assess(read_request(query), program, InstalledTools(planner.registry))
    assert unused in coverage.changing and coverage.status == "partial", (query, program, coverage)


@pytest.mark.parametrize("query", ["Is the car red or white?", "How many dogs are on the left?",
                                   "Is there a cat on the left side of the photo?"])
def test_questions_that_ask_no_side_do_not_plan_where(planner, query):
    program = planner.rank(query, lm=False)[0].program
    assert "WHERE" not in program, (query, program)
