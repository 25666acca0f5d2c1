"""IR -> HuggingGPT task list -> IR: one program, two surfaces (programs.task_render + programs.tasks)."""

from __future__ import annotations

import json
import re

import pytest

from loupe.programs.checker import check
from loupe.programs.examples_library import load_library
from loupe.programs.ir import Ref
from loupe.programs.parser import parse_program
from loupe.programs.task_render import program_to_tasks, program_to_tasks_json
from loupe.programs.tasks import parse_tasks
from loupe.programs.values import ValueType

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
WITH_TASKS = [e for e in load_library() if e.tasks]


def canonical(program) -> list[tuple]:
    """The program up to variable names and argument order: outputs renamed V0, V1... in step order
    (references and EVAL placeholders follow), each step as (output, module, sorted arguments)."""
    names = {s.output: f"V{i}" for i, s in enumerate(program.steps) if s.module != "RESULT"}

    def value(v):
        if isinstance(v, Ref):
            return ("ref", names.get(v.name, v.name))
        if isinstance(v, tuple):
            return tuple(value(x) for x in v)
        if isinstance(v, str):
            return _PLACEHOLDER.sub(lambda m: "{" + names.get(m.group(1), m.group(1)) + "}", v)
        return v

    return [(names.get(s.output, "RESULT"), s.module, tuple(sorted((a.name, value(a.value)) for a in s.args)))
            for s in program.steps]


def inputs_of(program):
    used = {r.name for s in program.steps for r in s.refs()}
    if used & {"LEFT", "RIGHT"}:
        return {"LEFT": ValueType.IMAGE, "RIGHT": ValueType.IMAGE}
    return {"IMAGE": ValueType.IMAGE}


@pytest.mark.parametrize("example", WITH_TASKS, ids=lambda e: e.id)
def test_every_library_program_with_tasks_round_trips(example, registry):
    program = example.parsed_program()
    tasks = program_to_tasks(program)
    back = parse_tasks(json.dumps(tasks), registry.names())
    assert canonical(back) == canonical(program)
    check(back, registry, inputs_of(program))
    # the task list is a fixed point: rendering the parsed list gives the same list
    assert program_to_tasks(back) == tasks


@pytest.mark.parametrize("example", WITH_TASKS, ids=lambda e: e.id)
def test_rendered_list_means_what_the_library_list_means(example, registry):
    """Up to SELECT's optional category, which the hand-written lists leave out."""
    def without_category(program):
        return [(o, m, tuple(a for a in args if a[0] != "category")) for o, m, args in canonical(program)]

    rendered = parse_tasks(program_to_tasks_json(example.parsed_program()), registry.names())
    assert without_category(rendered) == without_category(parse_tasks(example.tasks, registry.names()))


def test_shape_names_files_dependencies_and_placeholders():
    program = parse_program("BOX0=LOC(image=IMAGE,object='dog')\nBOX1=LOC(image=IMAGE,object='cat')\n"
                            "ANSWER0=COUNT(box=BOX0)\nANSWER1=COUNT(box=BOX1)\n"
                            "ANSWER2=EVAL(expr=\"'yes' if {ANSWER0} > 0 and {ANSWER1} > 0 else 'no'\")\n"
                            "FINAL_RESULT=RESULT(var=ANSWER2)\n")
    tasks = program_to_tasks(program)
    assert tasks[0] == {"task": "object-detection", "id": 0, "dep": [-1],
                        "args": {"image": "image.jpg", "text": "dog"}}
    assert tasks[2] == {"task": "object-counting", "id": 2, "dep": [0], "args": {"box": "<GENERATED>-0"}}
    assert tasks[4] == {"task": "EVAL", "id": 4, "dep": [2, 3],
                        "args": {"expr": "'yes' if {ANSWER2} > 0 and {ANSWER3} > 0 else 'no'"}}


def test_steps_the_answer_does_not_need_are_left_out():
    program = parse_program("BOX0=LOC(image=IMAGE,object='car')\nBOX1=LOC(image=IMAGE,object='bus')\n"
                            "ANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n")
    assert [t["args"].get("text") for t in program_to_tasks(program)] == ["car", None]


def test_right_before_left_keeps_its_side(registry):
    program = parse_program("BOX0=LOC(image=RIGHT,object='dog')\nBOX1=LOC(image=LEFT,object='dog')\n"
                            "ANSWER0=COUNT(box=BOX0)\nANSWER1=COUNT(box=BOX1)\n"
                            "ANSWER2=EVAL(expr=\"{ANSWER0} - {ANSWER1}\")\nFINAL_RESULT=RESULT(var=ANSWER2)\n")
    back = parse_tasks(program_to_tasks_json(program), registry.names())
    assert canonical(back) == canonical(program)


def test_text_that_would_read_as_a_file_is_refused():
    program = parse_program("ANSWER0=VQA(image=IMAGE,question='photo.jpg')\nFINAL_RESULT=RESULT(var=ANSWER0)\n")
    with pytest.raises(ValueError, match="would read as a file"):
        program_to_tasks(program)
    with pytest.raises(ValueError, match="RESULT"):
        program_to_tasks(parse_program("ANSWER0=VQA(image=IMAGE,question='what?')\n"))
