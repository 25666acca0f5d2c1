"""IR -> VisProg text, such that parse_program(render(p)) == p."""

from __future__ import annotations

import pytest

from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.parser import parse_program
from loupe.programs.render import render, render_value


def one_arg(value) -> Program:
    return Program((Step("OUT", "MOD", (Arg("x", value),)),))


@pytest.mark.parametrize("value, text", [
    ("dog", "'dog'"),
    ("it's", '"it\'s"'),
    ("it's \"x\"", "'it\\'s \"x\"'"),
    ("a\\b", "'a\\\\b'"),
    ("a\nb\tc\rd\0e", "'a\\nb\\tc\\rd\\0e'"),
    ("\x7f\u2028", "'\\u007f\\u2028'"),
    ("\U000e0001", "'\\U000e0001'"),
    ("é 😀", "'é 😀'"),
    (3, "3"),
    (-3, "-3"),
    (2.5, "2.5"),
    (-0.0, "-0.0"),
    (1e300, "1e+300"),
    (True, "True"),
    (None, "None"),
    ((), "[]"),
    (("a", (1, Ref("B"))), "['a',[1,B]]"),
    (Ref("IMAGE"), "IMAGE"),
])
def test_render_value(value, text):
    assert render_value(value) == text
    assert parse_program(render(one_arg(value))) == one_arg(value)


@pytest.mark.parametrize("value, error", [
    (float("inf"), ValueError),
    (float("nan"), ValueError),
    (Ref("True"), ValueError),
    (Ref("a b"), ValueError),
    ({"a": 1}, TypeError),
    (b"bytes", TypeError),
])
def test_values_that_cannot_be_rendered(value, error):
    with pytest.raises(error):
        render(one_arg(value))


@pytest.mark.parametrize("step", [
    Step("None", "MOD", ()),
    Step("OUT", "MOD X", ()),
    Step("OUT", "MOD", (Arg("a-b", 1),)),
])
def test_steps_with_bad_names_are_not_rendered(step):
    with pytest.raises(ValueError):
        render(Program((step,)))


def test_render_is_one_step_per_line():
    program = Program((Step("BOX0", "LOC", (Arg("image", Ref("IMAGE")), Arg("object", "tie"))),
                       Step("FINAL_RESULT", "RESULT", (Arg("var", Ref("BOX0")),))))
    assert render(program) == "BOX0=LOC(image=IMAGE,object='tie')\nFINAL_RESULT=RESULT(var=BOX0)\n"
    assert parse_program(render(program)) == program


def test_a_comment_and_layout_do_not_survive_but_the_program_does():
    text = "# find it\nBOX0 = LOC( image=IMAGE , object=\"it's\" )\n"
    assert render(parse_program(text)) == "BOX0=LOC(image=IMAGE,object=\"it's\")\n"


def test_types_are_kept():
    for value in (1, 1.0, True):
        assert parse_program(render(one_arg(value))).steps[0].args[0].value.__class__ is type(value)
    assert one_arg(1) != one_arg(1.0) != one_arg(True) != one_arg(1)
