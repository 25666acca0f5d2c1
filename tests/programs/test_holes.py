"""Typed holes in the IR: a program with holes (a sketch) is checked as far as it can be, typed by the
arguments its holes stand for, never run, and filled into a program that checks as it is."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.programs.checker import CheckedProgram, check, check_sketch
from loupe.programs.errors import ProgramError
from loupe.programs.examples_library import load_library
from loupe.programs.interpreter import Interpreter
from loupe.programs.ir import (Arg, Hole, Program, Ref, Step, Template, fill, program_holes, program_to_json,
                         value_from_json)
from loupe.programs.parser import parse_program
from loupe.programs.render import placed, render
from loupe.programs.values import Image, ValueType


def _counting(expr) -> Program:
    return Program((
        Step("BOX0", "LOC", (Arg("image", Ref("IMAGE")), Arg("object", Hole("object", 0)))),
        Step("ANSWER0", "COUNT", (Arg("box", Ref("BOX0")),)),
        Step("ANSWER1", "EVAL", (Arg("expr", expr),)),
        Step("FINAL_RESULT", "RESULT", (Arg("var", Ref("ANSWER1")),)),
    ))


SKETCH = _counting(Template(("'yes' if {ANSWER0} ", Hole("op", 0), " ", Hole("number", 0), " else 'no'")))


def test_a_sketch_checks_with_each_hole_typed_by_the_argument_it_stands_for(registry):
    checked = check_sketch(SKETCH, registry)
    assert checked.holes == {Hole("object", 0): ValueType.TEXT, Hole("op", 0): ValueType.ANY,
                             Hole("number", 0): ValueType.ANY}
    assert checked.types["BOX0"] is ValueType.OBJECTS and not isinstance(checked, CheckedProgram)
    assert program_holes(SKETCH) == (Hole("object", 0), Hole("op", 0), Hole("number", 0))


def test_a_program_with_holes_never_passes_check_nor_runs(registry):
    with pytest.raises(ProgramError) as error:
        check(SKETCH, registry)
    assert "is the hole <object0>" in str(error.value) and "is the hole <op0>" in str(error.value)
    photo = Image(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ProgramError, match="cannot run"):
        Interpreter(registry).run(SKETCH, {"IMAGE": photo})


def test_what_is_not_a_hole_is_checked_as_usual(registry):
    broken = Program((Step("BOX0", "LOC", (Arg("image", Ref("PHOTO")), Arg("object", Hole("object", 0)))),
                      Step("FINAL_RESULT", "RESULT", (Arg("var", Ref("BOX0")),))))
    with pytest.raises(ProgramError, match="PHOTO is used before it is defined"):
        check_sketch(broken, registry)
    with pytest.raises(ProgramError, match="unknown module LOCATE"):
        check_sketch(Program((Step("X", "LOCATE", (Arg("object", Hole("object")),)),)), registry)


def test_a_hole_of_two_types_or_with_a_default_of_another_type_is_an_error(registry):
    twice = Program((Step("LIST0", "LIST", (Arg("query", Hole("q")), Arg("max", Hole("q")))),
                     Step("FINAL_RESULT", "RESULT", (Arg("var", Ref("LIST0")),))))
    with pytest.raises(ProgramError, match="stands for Number here but for Text before"):
        check_sketch(twice, registry)
    wrong_default = Program((Step("LIST0", "LIST", (Arg("query", Hole("q", 0, 3)),)),
                             Step("FINAL_RESULT", "RESULT", (Arg("var", Ref("LIST0")),))))
    with pytest.raises(ProgramError, match="its default 3 is Number"):
        check_sketch(wrong_default, registry)


def test_filling_gives_a_program_that_checks_as_it_is(registry):
    values = {"object": "dog", "op": ">=", "number": 2}
    asked = []
    filled = fill(SKETCH, lambda hole: asked.append(hole) or values[hole.kind])
    assert asked == list(program_holes(SKETCH))   # once per place a hole stands
    assert not program_holes(filled) and filled == parse_program(
        "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\n"
        "ANSWER1=EVAL(expr=\"'yes' if {ANSWER0} >= 2 else 'no'\")\nFINAL_RESULT=RESULT(var=ANSWER1)")
    assert check(filled, registry).program is filled


def test_holes_are_shown_for_people_and_written_as_json_but_never_read_back():
    with pytest.raises(ValueError, match="fill it first"):
        render(SKETCH)
    assert "object=<object0>" in render(SKETCH, holes=True)
    assert "{ANSWER0} <op0> <number0>" in render(SKETCH, holes=True)
    data = program_to_json(SKETCH)["steps"]
    assert data[0]["args"]["object"] == {"hole": "object", "n": 0}
    assert program_to_json(Program((Step("I", "EMOJI", (Arg("emoji", Hole("emoji", 0, "cat")),)),)))[
        "steps"][0]["args"]["emoji"] == {"hole": "emoji", "n": 0, "default": "cat"}
    with pytest.raises(ValueError):
        value_from_json({"hole": "object", "n": 0})


@pytest.mark.parametrize("text", [e.program for e in load_library()] + [
    "A=F(x=[B,[C,'d'],-3],y=-1.5,z=None,w='it\\'s \"q\"',v=\"é\\n\")\nB=G()\n"])
def test_placed_gives_the_spans_parsing_the_rendered_text_would(text):
    program = parse_program(text)
    bare = Program(tuple(Step(s.output, s.module, tuple(Arg(a.name, a.value) for a in s.args)) for s in program.steps))
    assert _spans(placed(bare)) == _spans(parse_program(render(program)))
    assert placed(bare).source == render(program) and placed(bare) == program


def _spans(program: Program) -> list:
    found = []

    def visit(value):
        if isinstance(value, Ref):
            found.append(value.span)
        elif isinstance(value, tuple):
            for item in value:
                visit(item)

    for step in program.steps:
        found += [step.span, step.module_span]
        for arg in step.args:
            found += [arg.span, arg.value_span]
            visit(arg.value)
    return found
