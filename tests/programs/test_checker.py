"""The static check: every problem of a program at once, each on its line, with a suggestion."""

from __future__ import annotations

import pytest

from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.parser import parse_program
from loupe.programs.values import ValueType

GOOD = """BOX0=LOC(image=IMAGE,object='dog')
ANSWER0=COUNT(box=BOX0)
ANSWER1=EVAL(expr="'yes' if {ANSWER0} > 0 else 'no'")
FINAL_RESULT=RESULT(var=ANSWER1)
"""


def problems(text: str, registry) -> list:
    with pytest.raises(ProgramError) as caught:
        check(parse_program(text), registry)
    return list(caught.value.diagnostics)


def test_a_good_program(registry):
    checked = check(parse_program(GOOD), registry)
    assert checked.types["BOX0"] is ValueType.OBJECTS and checked.types["ANSWER0"] is ValueType.NUMBER
    assert checked.reads == (("IMAGE",), ("BOX0",), ("ANSWER0",), ("ANSWER1",))
    assert checked.inputs == ("IMAGE",) and checked.result_variable == "FINAL_RESULT"


def test_four_errors_on_four_lines_are_reported_together(registry):
    text = """BOX0=LOCATE(image=IMAGE,object='dog')
IMAGE0=CROP(image=BOX1,box=BOX0)
ANSWER0=VQA(image=IMAGE0,question='what?',questoin='why?')
ANSWER1=EVAL(expr="{ANSWER0} or {ANSWER9}")
FINAL_RESULT=RESULT(var=ANSWER1)
"""
    found = problems(text, registry)
    lines = text.splitlines()
    columns = [lines[0].find("LOCATE"), lines[1].find("BOX1"), lines[2].find("questoin"), lines[3].find("{ANSWER9}")]
    assert [(d.line, d.column) for d in found] == [(1, 6), (2, 19), (3, 43), (4, 33)]
    assert [d.column for d in found] == [c + 1 for c in columns]
    assert str(found[0]) == "line 1, column 6: unknown module LOCATE; did you mean LOC?"
    assert "variable BOX1 is used before it is defined" in found[1].message
    assert found[2].message == "VQA has no argument questoin" and "did you mean question?" in found[2].suggestion
    assert found[3].message == "variable ANSWER9 is used before it is defined" and found[3].text == "ANSWER9"
    assert found[3].suggestion == "did you mean ANSWER0?"


@pytest.mark.parametrize("line, column, message, suggestion", [
    ("X=LOCATE(image=IMAGE,object='x')", 3, "unknown module LOCATE", "did you mean LOC?"),
    ("X=VQAA(image=IMAGE,question='x')", 3, "unknown module VQAA", "did you mean VQA"),
    ("X=LOC(image=IMAGE)", 3, "LOC needs the argument object (Text)", "LOC(image: Image, object: Text)"),
    ("X=LOC(image=IMAGE,object='x',obj='y')", 30, "LOC has no argument obj", "did you mean object?"),
    ("X=LOC(image=IMAGE,object='x',zzzz=1)", 30, "LOC has no argument zzzz", "LOC(image: Image"),
    ("X=LOC(image=IMAGE,object='x',object='y')", 30, "argument object given twice", "give each argument once"),
    ("X=COUNT(box='dog')", 13, "COUNT argument box must be Objects, but 'dog' is Text", "COUNT(box: Objects)"),
    ("X=LOC(image=IMAGE,object=IMAGE)", 26, "argument object must be Text, but IMAGE is Image", "LOC("),
    ("X=LOC(image=IMAGE,object=4)", 26, "must be Text, but 4 is Number", "LOC("),
    ("X=LOC(image=IMAGE,object=None)", 26, "must be Text, but None is None", "LOC("),
    ("X=LIST(query='x',max='four')", 22, "argument max must be Number", "LIST("),
    ("X=CLASSIFY(image=IMAGE,object=IMAGE,categories=['a'])", 31, "must be Objects, but IMAGE is Image", ""),
    ("X=CLASSIFY(image=IMAGE,categories=[1])", 35, "a list value must hold only text", ""),
    ("X=VQA(image=NOPE,question='x')", 13, "variable NOPE is used before it is defined", "IMAGE"),
    ("X=EVAL(expr='{Y} > 1')", 14, "variable Y is used before it is defined", ""),
    ("X=EVAL(expr='len({Y})')", 14, "function calls are not allowed in EVAL", ""),
    ("IMAGE=CROP(image=IMAGE,box=B)", 1, "IMAGE is an input and cannot be assigned", "IMAGE0"),
    ("LEFT=FACEDET(image=LEFT)", 1, "LEFT is an input and cannot be assigned", ""),
    ("B=FACEDET(image=IMAGE)", 1, "B is assigned twice (first on line 1)", "its own output name"),
])
def test_problems(line, column, message, suggestion, registry):
    text = f"B=FACEDET(image=IMAGE)\n{line}\nFINAL_RESULT=RESULT(var=B)\n"
    found = [d for d in problems(text, registry) if d.line == 2 and message in d.message]
    assert [(d.line, d.column) for d in found] == [(2, column)]
    assert suggestion in found[0].suggestion


@pytest.mark.parametrize("text", [
    "B=FACEDET(image=IMAGE)\nX=SELECT(image=IMAGE,object=B,query='dog',category=None)\nR=RESULT(var=X)",
    "B=FACEDET(image=IMAGE)\nX=SELECT(image=IMAGE,object=B,query='dog')\nR=RESULT(var=X)",
    "X=LIST(query='x',max=True)\nR=RESULT(var=X)",
    "X=LIST(query='x')\nR=RESULT(var=X)",
    "X=CLASSIFY(image=IMAGE,object=B,categories=[])\nB=FACEDET(image=IMAGE)\nR=RESULT(var=X)",
])
def test_does_not_raise_or_raises_only_what_it_should(text, registry):
    if "object=B,categories" in text:
        assert [d.message for d in problems(text, registry)] == ["variable B is used before it is defined"]
    else:
        check(parse_program(text), registry)


def test_an_unknown_module_does_not_cascade(registry):
    text = "BOX0=LOCATE(image=IMAGE,object='dog')\nN=COUNT(box=BOX0)\nR=RESULT(var=N)\n"
    assert [d.message for d in problems(text, registry)] == ["unknown module LOCATE"]


def test_assigning_an_input_keeps_its_type(registry):
    text = "IMAGE=LOC(image=IMAGE,object='x')\nA=VQA(image=IMAGE,question='q')\nR=RESULT(var=A)\n"
    assert [d.line for d in problems(text, registry)] == [1]


@pytest.mark.parametrize("text, expected", [
    ("A=VQA(image=IMAGE,question='q')", [(1, "no RESULT step")]),
    ("R=RESULT(var=IMAGE)\nA=VQA(image=IMAGE,question='q')", [(1, "RESULT must be the last step")]),
    ("R=RESULT(var=IMAGE)\nS=RESULT(var=IMAGE)", [(2, "exactly one RESULT; another on line 2")]),
    ("R=RESULT(var=IMAGE)\nS=RESULT(var=IMAGE)\nA=VQA(image=IMAGE,question='q')",
     [(1, "RESULT must be the last step"), (2, "exactly one RESULT")]),
])
def test_result_rules(text, expected, registry):
    found = problems(text, registry)
    assert [(d.line, expected_message) for d, (_, expected_message) in zip(found, expected)] == expected
    assert all(message in d.message for d, (_, message) in zip(found, expected))


def test_eval_placeholder_columns_within_the_line(registry):
    text = GOOD.replace("{ANSWER0} > 0", "{ANSWER0} > 0 and '{NOPE}' == 'x'")
    (found,) = problems(text, registry)
    line = text.splitlines()[2]
    assert found.line == 3 and line[found.column - 1:].startswith("{NOPE}")


def test_step_limit_and_custom_inputs(registry):
    program = Program(tuple(Step(f"A{i}", "VQA", (Arg("image", Ref("PHOTO")), Arg("question", "q")))
                            for i in range(3)) + (Step("R", "RESULT", (Arg("var", Ref("A2")),)),))
    checked = check(program, registry, inputs={"PHOTO": ValueType.IMAGE})
    assert checked.inputs == ("PHOTO",)
    with pytest.raises(ProgramError, match="the limit is 2"):
        check(program, registry, inputs={"PHOTO": ValueType.IMAGE}, max_steps=2)
    with pytest.raises(ProgramError, match="PHOTO is used before"):
        check(program, registry)


def test_a_checked_program_round_trips_through_plain_data(registry):
    import json

    from loupe.programs.checker import CheckedProgram

    checked = check(parse_program("BOX0=LOC(image=IMAGE,object='tie')\n# a comment\nN=COUNT(box=BOX0)\n"
                                  "R=RESULT(var=N)"), registry)
    data = json.loads(json.dumps(checked.to_data()))
    again = CheckedProgram.from_data(data)
    assert again == checked and [s.span.line for s in again.program.steps] == [1, 2, 3]
    with pytest.raises(ProgramError, match="malformed checked program"):
        CheckedProgram.from_data({**data, "reads": data["reads"][:1]})
