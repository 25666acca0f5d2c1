"""HuggingGPT task lists -> the same IR: references, aliases, dep checks and errors with positions."""

from __future__ import annotations

import json

import pytest

from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.parser import parse_program
from loupe.programs.render import render
from loupe.programs.tasks import TASK_ALIASES, parse_tasks


def task(tid, name, dep=(-1,), **args):
    return {"task": name, "id": tid, "dep": list(dep), "args": args}


def test_detect_then_count_and_ask(registry):
    tasks = [task(0, "object-detection", image="street.jpg", text="car"),
             task(1, "object-counting", dep=[0], image="<GENERATED>-0"),
             task(2, "visual-question-answering", image="street.jpg", text="is it raining?"),
             ]
    program = parse_tasks(json.dumps(tasks, indent=1))
    assert render(program) == ("BOX0=LOC(image=IMAGE,object='car')\nANSWER1=COUNT(box=BOX0)\n"
                               "ANSWER2=VQA(image=IMAGE,question='is it raining?')\n"
                               "FINAL_RESULT=RESULT(var=ANSWER2)\n")
    assert program.files == (("IMAGE", "street.jpg"),)
    check(program, registry)
    assert parse_program(render(program)) == program


def test_resource_references_two_images_and_module_names(registry):
    tasks = [task(0, "VQA", image="left.png", question="how many dogs?"),
             task(1, "vqa", image="right.png", question="how many dogs?"),
             task(2, "EVAL", dep=[0, 1], expr="{ANSWER0} == {ANSWER1}"),
             task(3, "RESULT", dep=[2], var="<resource>-2")]
    program = parse_tasks(tasks, modules=registry.names())
    assert dict(program.files) == {"LEFT": "left.png", "RIGHT": "right.png"}
    assert [s.module for s in program.steps] == ["VQA", "VQA", "EVAL", "RESULT", "RESULT"]


@pytest.mark.parametrize("alias", sorted(TASK_ALIASES))
def test_every_alias_names_a_registered_module(alias, registry):
    assert TASK_ALIASES[alias].module in registry


def test_a_detection_output_given_as_image_becomes_the_object(registry):
    tasks = [task(0, "object-detection", image="a.jpg", text="face"),
             task(1, "background-blur", dep=[0], image="<GENERATED>-0")]
    program = parse_tasks(tasks)
    assert render(program).splitlines()[1] == "IMAGE1=BGBLUR(image=IMAGE,object=BOX0)"
    check(program, registry)


@pytest.mark.parametrize("tasks, line, message, suggestion", [
    ([task(0, "object-detectoin", image="a.jpg")], 1, "unknown task 'object-detectoin'",
     "did you mean object-detection"),
    ([task(0, "vqa", image="a.jpg")], 1, "unknown task 'vqa'", "valid tasks"),
    ([task(0, "image-captioning", image="a.jpg"), task(0, "image-captioning", image="b.jpg")], 2,
     "two tasks have the id 0", ""),
    ([task(0, "image-captioning", image="a.jpg"), task(1, "image-to-text", image="<GENERATED>-0")], 2,
     "task 1 uses the output of task 0, but its dep [-1] does not list 0", "add 0 to dep"),
    ([task(0, "image-captioning", dep=[7], image="a.jpg")], 1, "depends on task 7, which does not exist", ""),
    ([task(0, "image-captioning", image="<GENERATED>-5")], 1, "refers to task 5, which does not exist", ""),
    ([task(0, "visual-question-answering", dep=[0], image="a.jpg", text="<GENERATED>-0")], 1,
     "depends on its own output", ""),
    ([task(0, "image-captioning", **{"image url": "a.jpg"})], 1, "'image url' is not a name", ""),
    ([task(0, "image-captioning", image="a.jpg", n=float("nan"))], 1, "finite", ""),
    ([{"task": "image-captioning", "id": "0"}], 1, "needs an integer \"id\"", ""),
    ([{"task": "image-captioning", "id": True}], 1, "needs an integer \"id\"", ""),
    ([{"id": 0}], 1, "needs \"task\"", ""),
    (["image-captioning"], 1, "a task is a JSON object", ""),
    ([task(0, "image-captioning", dep="0")], 1, "\"dep\" must be a list", ""),
    ([{"task": "image-captioning", "id": 0, "args": []}], 1, "\"args\" must be an object", ""),
])
def test_task_list_problems(tasks, line, message, suggestion):
    text = "[\n" + ",\n".join(json.dumps(t) for t in tasks) + "\n]"
    with pytest.raises(ProgramError) as caught:
        parse_tasks(text)
    found = [d for d in caught.value.diagnostics if message in d.message]
    assert found and found[0].line == line + 1 and found[0].column == 1
    assert suggestion in found[0].suggestion


def test_a_cycle_is_named():
    tasks = [task(0, "image-captioning", dep=[1], image="<GENERATED>-1"),
             task(1, "image-captioning", dep=[0], image="<GENERATED>-0")]
    with pytest.raises(ProgramError, match=r"cycle: 0 -> 1 -> 0"):
        parse_tasks(tasks)


@pytest.mark.parametrize("text, line, column, message", [
    ('[{"task": "image-captioning", "id": 0,}]', 1, 39, "not valid JSON"),
    ('[\n  {"task": "image-captioning"\n   "id": 0}\n]', 3, 4, "not valid JSON"),
    ("", 1, 1, "not valid JSON"),
    ("[]", 0, 0, "non-empty JSON list"),
    ("{}", 0, 0, "non-empty JSON list"),
    ('"task"', 0, 0, "non-empty JSON list"),
    ("[" * 100_000, 0, 0, "JSON"),
    ("[" * 20 + "]" * 20, 0, 0, "deeper than"),
    ("1" * 5000, 0, 0, "not usable JSON"),
    (json.dumps([task(i, "image-captioning", image="a.jpg") for i in range(101)]), 0, 0, "the limit is 100"),
    (json.dumps([task(i, "image-captioning", image=f"{i}.jpg") for i in range(3)]), 0, 0, "at most two"),
])
def test_unreadable_task_lists(text, line, column, message):
    with pytest.raises(ProgramError, match=message) as caught:
        parse_tasks(text)
    assert (caught.value.first.line, caught.value.first.column) == (line, column)


def test_a_single_task_object_is_a_list_of_one():
    program = parse_tasks(json.dumps(task(0, "image-captioning", image="a.jpg")))
    assert render(program) == "TEXT0=CAPTION(image=IMAGE)\nFINAL_RESULT=RESULT(var=TEXT0)\n"
