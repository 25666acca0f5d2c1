"""Constrained decoding: which texts are valid beginnings of a program or a task list."""

import json

import pytest

from loupe.agent.planning.constraints import ProgramPrefix, output_name_ok, query_phrases
from loupe.agent.planning.json_constraints import TaskListPrefix, task_bound
from loupe.programs.tasks import TASK_ALIASES
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

PROGRAM = """BOX0=LOC(image=IMAGE,object='dogs')
ANSWER0=COUNT(box=BOX0)
ANSWER1=EVAL(expr="'yes' if {ANSWER0} > 0 else 'no'")
FINAL_RESULT=RESULT(var=ANSWER1)
"""
TASKS = ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "image.jpg", "text": "dog"}}, '
         '{"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}}]')


@pytest.fixture(scope="module")
def prefix():
    return ProgramPrefix(default_registry(Settings.from_env(), plugins=False), choices={"object": ["dogs", "TOP"]})


def test_every_prefix_of_a_valid_program_is_accepted_and_the_whole_is_complete(prefix):
    assert all(prefix(PROGRAM[:i]) for i in range(len(PROGRAM) + 1))
    assert prefix.is_complete(PROGRAM) and not prefix.is_complete(PROGRAM[:-30])


@pytest.mark.parametrize("text, why", [
    ("Question", "output names are BOX0, OBJ1, ANSWER2, ... FINAL_RESULT"),
    ("BOX123=", "at most two digits"),
    ("BOX0=LOCATE", "unknown module"),
    ("ANSWER0=COUNT", "no Objects variable yet"),
    ("BOX0=LOC(imag=", "unknown argument"),
    ("BOX0=LOC(image=BOX9", "undefined variable"),
    ("BOX0=LOC(image=IMAGE,object='cats'", "object names come from the choices"),
    ("BOX0 =", "no spaces"),
    ("\nBOX0", "no blank line first"),
    ("BOX0=LOC(image=IMAGE,object='dogs')\nANSWER0=COUNT(box=BOX0)\nANSWER1=COU", "COUNT(box=BOX0) again"),
    ("BOX0=LOC(image=IMAGE,object='dogs')\nIMAGE0=CROP(image=IMAGE,box=BOX0,", "nothing left to pass"),
    ("BOX0=LOC(image=IMAGE,object='dogs')\nANSWER0=EVAL(expr=\"{BOX0} is a", "only EVAL's own words"),
    ("BOX0=LOC(image=IMAGE,object='dogs')\nANSWER0=EVAL(expr=\"{BOX9}", "placeholders name variables"),
    ("BOX0=LOC(image=IMAGE,object='dogs')\n\n", "a blank line only after RESULT"),
    (PROGRAM + "BOX1", "nothing after RESULT"),
])
def test_invalid_beginnings_are_rejected(prefix, text, why):
    assert not prefix(text), why


def test_output_names():
    assert output_name_ok("BOX0", True) and output_name_ok("FINAL_RESULT", True)
    assert output_name_ok("ANS", False) and not output_name_ok("ANS", True)
    assert not output_name_ok("Question", False)


def test_query_phrases_are_the_querys_word_runs():
    assert query_phrases("How many dogs?", 2) == ["dogs", "how", "how many", "many", "many dogs"]
    assert "bank" in query_phrases("What bank's name is it?", 2)


@pytest.fixture(scope="module")
def tasks():
    return TaskListPrefix(list(TASK_ALIASES) + ["EVAL"])


def test_every_prefix_of_a_valid_task_list_is_accepted(tasks):
    assert all(tasks(TASKS[:i]) for i in range(len(TASKS) + 1))
    assert tasks.is_complete(TASKS) and not tasks.is_complete(TASKS[:-1])


@pytest.mark.parametrize("text, why", [
    ("import os", "a list first"),
    ('[{"tsk', "only task keys"),
    ('[{"task": "image-magic', "known tasks only"),
    ('[{"task": "object-detection", "task', "each key once"),
    ('[{"task": "object-detection", "id": 0, "dep": [0', "only earlier tasks"),
    ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {"text": "a"}}, '
     '{"task": "object-detection", "id": 1, "dep": [0, 0', "each dependency once"),
    ('[{"task": "object-detection", "id": 1', "task k has the id k"),
    ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {"text": "a", "text', "each argument once"),
    ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {"text": "a"}}, '
     '{"task": "object-detection", "id": 1, "dep": [-1], "args": {"text": "a"}', "no repeated task"),
    ('[{"task": "EVAL", "id": 0, "dep": [-1], "args": {"expr": "1"}}, ', "the answer ends the list"),
    ('[{"task": "object-detection", "id": 0, "args": {"text": "' + "a" * 200, "strings are bounded"),
    ('[{"task": "object-detection", "id": 0, "args": {"image\\', "no escapes"),
    ('[{"task": "object-detection", "id": 0, "args": {"colour', "known argument names"),
    ('[  {', "single spaces"),
    ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {}}]]', "nothing after the list"),
])
def test_invalid_task_list_beginnings_are_rejected(tasks, text, why):
    assert not tasks(text), why


def greedy(prefix_ok, chunks, max_steps: int = 5000) -> str:
    """Constrained greedy decoding as the local model does it, with a fake scorer whose preference
    order is ``chunks(text)``: the first chunk that keeps a valid prefix is taken; it ends when none does."""
    text = ""
    for _ in range(max_steps):
        chosen = next((c for c in chunks(text) if prefix_ok(text + c)), None)
        if chosen is None:
            return text
        text += chosen
    raise AssertionError(f"decoding did not end: {text[-200:]}")


def always_another_task(task_name: str):
    """A scorer that always prefers one more task of ``task_name`` over closing the list, and when a
    task would repeat an earlier one, an extra argument over anything else."""
    from loupe.agent.planning.json_constraints import _ARG_NAMES

    start = f'{{"task": "{task_name}", "id": '
    chunks = ["[" + start, ", " + start] + [str(i) for i in range(10)] + \
        [', "dep": [-1], "args": {"image": "image.jpg"', "}}"] + [f', "{n}": "x"' for n in _ARG_NAMES] + ["]"]
    return lambda text: chunks


@pytest.mark.parametrize("bound", [3, 5, 12])
def test_a_model_that_always_wants_another_task_still_ends_with_a_bounded_list(bound):
    prefix = TaskListPrefix(list(TASK_ALIASES), max_tasks=bound)
    text = greedy(prefix, always_another_task("image-classification"))
    assert prefix.is_complete(text)
    tasks = json.loads(text)
    assert len(tasks) == bound and [t["id"] for t in tasks] == list(range(bound))
    assert len({json.dumps(t["args"]) for t in tasks}) == bound  # no task repeated


def test_the_list_closes_after_the_task_that_computes_the_answer():
    prefix = TaskListPrefix(list(TASK_ALIASES) + ["EVAL"], max_tasks=12)
    text = greedy(prefix, always_another_task("EVAL"))
    assert prefix.is_complete(text) and len(json.loads(text)) == 1


def test_the_bound_follows_the_question():
    assert task_bound("How many dogs are there?") == 4
    assert task_bound("Is there a bicycle or a car next to the dog?") > task_bound("Is there a dog?")
    assert task_bound("the " * 50) == 3 and task_bound("word " * 3 + " ".join(f"w{i}" for i in range(30))) == 12
