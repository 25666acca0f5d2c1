"""VisProg text -> IR: every construct of VisProg's prompts, and errors with line, column, text and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.parser import parse_program

VISPROG = sorted((Path(__file__).parent / "visprog").glob("*.txt"))


def only_step(text: str) -> Step:
    program = parse_program(text)
    assert len(program) == 1
    return program.steps[0]


@pytest.mark.parametrize("path", VISPROG, ids=lambda p: p.stem)
def test_visprog_programs_parse_and_check(path, registry):
    program = parse_program(path.read_text())
    checked = check(program, registry)
    assert checked.result_variable == program.steps[-1].output


def test_visprog_programs_cover_the_prompt_modules():
    modules = {s.module for p in VISPROG for s in parse_program(p.read_text()).steps}
    assert {"LOC", "CROP", "CROP_RIGHTOF", "CROP_LEFTOF", "CROP_ABOVE", "CROP_BELOW", "COUNT", "VQA", "EVAL",
            "RESULT", "FACEDET", "LIST", "CLASSIFY", "TAG", "SELECT", "EMOJI", "SEG", "REPLACE", "COLORPOP",
            "BGBLUR"} <= modules


@pytest.mark.parametrize("text, value", [
    ("x='dog'", "dog"),
    ('x="dog"', "dog"),
    ("x=\"it's\"", "it's"),
    ("x='say \"hi\"'", 'say "hi"'),
    (r"x='it\'s'", "it's"),
    (r"x='a\\b'", "a\\b"),
    (r"x='line\nbreak\ttab'", "line\nbreak\ttab"),
    (r"x='\u00e9\U0001F600'", "é\U0001F600"),
    (r"x='\q'", "\\q"),
    ("x='# not a comment'", "# not a comment"),
    ("x='a,b=c)'", "a,b=c)"),
    ("x=''", ""),
    ("x=4", 4),
    ("x=-4", -4),
    ("x=- 4", -4),
    ("x=2.5", 2.5),
    ("x=-0.25", -0.25),
    ("x=1e3", 1000.0),
    ("x=.5", 0.5),
    ("x=True", True),
    ("x=False", False),
    ("x=None", None),
    ("x=[]", ()),
    ("x=['a','b',]", ("a", "b")),
    ("x=[1,[2,[-3]],None]", (1, (2, (-3,)), None)),
    ("x=IMAGE", Ref("IMAGE")),
    ("x=[LEFT,RIGHT]", (Ref("LEFT"), Ref("RIGHT"))),
])
def test_values(text, value):
    step = only_step(f"OUT=MOD({text})")
    assert step.args == (Arg("x", value),)
    assert type(step.args[0].value) is type(value)


@pytest.mark.parametrize("text", [
    "BOX0=LOC(image=IMAGE,object='tie')",
    "  BOX0 =LOC( image= IMAGE ,object ='tie' )  ",
    "\tBOX0=LOC(image=IMAGE,\tobject='tie',)",
    "BOX0=LOC(image=IMAGE,object='tie')  # find the tie",
    "# a comment\n\nBOX0=LOC(image=IMAGE,object='tie')\n   \n# another\n",
    "BOX0=LOC(image=IMAGE,object='tie')\r\n",
])
def test_layout_is_free(text):
    assert parse_program(text) == Program((Step("BOX0", "LOC", (Arg("image", Ref("IMAGE")), Arg("object", "tie"))),))


def test_spans_record_lines_and_columns():
    program = parse_program("# header\n\nBOX0=LOC(image=IMAGE, object='tie')\n")
    step = program.steps[0]
    assert (step.span.line, step.span.column, step.module_span.column) == (3, 1, 6)
    assert [(a.span.column, a.value_span.column) for a in step.args] == [(10, 16), (23, 30)]


def test_a_form_feed_inside_a_string_does_not_split_the_line():
    assert only_step("A=B(x='a\x0cb\u2028c')").arg("x") == "a\x0cb\u2028c"


def test_parsing_never_evaluates(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert only_step("A=B(x='__import__(1)')").arg("x") == "__import__(1)"
    with pytest.raises(ProgramError):
        parse_program("A=B(x=__import__('os'))")


# ---- errors: line, column, offending text and a suggestion ------------------------------------------

@pytest.mark.parametrize("text, column, shown, message, hint", [
    ("BOX0 LOC(image=IMAGE)", 6, "LOC", "expected '=' after the output variable BOX0", "OUT=MODULE"),
    ("=LOC(image=IMAGE)", 1, "=", "a step starts with the name", "OUT=MODULE"),
    ("BOX0=(image=IMAGE)", 6, "(", "expected a module name", "LOC"),
    ("BOX0=LOC image=IMAGE", 10, "image", "expected '(' after the module name LOC", "LOC(arg=value"),
    ("BOX0=LOC(image=IMAGE", 21, "end of line", "missing ')'", "close the call"),
    ("BOX0=LOC(image IMAGE)", 16, "IMAGE", "expected '=' after the argument name image", "image=value"),
    ("BOX0=LOC(image=IMAGE object='x')", 22, "object", "expected ',' or ')'", "separate arguments"),
    ("BOX0=LOC(image=IMAGE,object=tie cup)", 33, "cup", "expected ',' or ')'", "quote text values"),
    ("BOX0=LOC(image=IMAGE,object=)", 29, ")", "expected a value, found )", "a value is"),
    ("BOX0=LOC(image=IMAGE) extra", 23, "extra", "unexpected text after the closing ')'", "one step per line"),
    ("BOX0=LOC(image=IMAGE,object='tie)", 29, "'tie)", "unterminated string", "end the string with '"),
    ("BOX0=LOC(image=IMAGE,object=\u2018tie\u2019)", 29, "\u2018", "unexpected character", "straight quote"),
    ("BOX0=LOC(image: IMAGE)", 15, ":", "unexpected character", "name=value"),
    ("A=B(x=1); C=D(y=2)", 9, ";", "unexpected character", "one step per line"),
    ("True=LOC(image=IMAGE)", 1, "True", "True is a constant", "choose a variable name"),
    ("A=B(x=[1,2)", 11, ")", "expected ',' or ']'", ""),
    ("A=B(x=[1,2", 7, "[", "missing ']'", "close the list"),
    ("A=B(x=" + "[" * 9 + "]" * 9 + ")", 15, "[", "lists nested deeper than 8", ""),
    ("A=B(x=1e999)", 7, "1e999", "number out of range", "1e308"),
    ("A=B(x=" + "9" * 500 + ")", 7, "9" * 20, "number out of range", "at most 400"),
])
def test_syntax_errors(text, column, shown, message, hint):
    with pytest.raises(ProgramError) as caught:
        parse_program("# first line\n" + text)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.text) == (2, column, shown)
    assert message in diagnostic.message
    assert hint in diagnostic.suggestion


def test_every_syntax_error_is_reported_at_once():
    text = "A=LOC(image=IMAGE\nB=VQA(image=IMAGE,question='ok')\nC=COUNT(box=)\nD==E()\n"
    with pytest.raises(ProgramError) as caught:
        parse_program(text)
    assert [d.line for d in caught.value.diagnostics] == [1, 3, 4]


@pytest.mark.parametrize("text, message", [
    ("", "no steps"),
    ("# only a comment\n\n", "no steps"),
    (b"A=B()", "a program is text"),
    ("A=B(x=1)\n" * 30_000, "the limit is"),
])
def test_programs_that_cannot_be_read(text, message):
    with pytest.raises(ProgramError, match=message):
        parse_program(text)
