"""The IR's JSON form: program_from_json(program_to_json(p)) == p, and malformed JSON is a ProgramError."""

from __future__ import annotations

import json

import pytest

from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Program, Ref, Step, program_from_json, program_to_json
from loupe.programs.parser import parse_program

PROGRAM = parse_program("""BOX0=LOC(image=IMAGE,object='tie')
LIST0=LIST(query="members of a band",max=4)
X=MOD(a=[1,-2.5,[True,None],'q\\'uote',BOX0],b=LIST0)
FINAL_RESULT=RESULT(var=X)
""")


def test_json_form():
    data = program_to_json(PROGRAM)
    assert data["steps"][0] == {"output": "BOX0", "module": "LOC",
                                "args": {"image": {"ref": "IMAGE"}, "object": "tie"}}
    assert data["steps"][2]["args"]["a"] == [1, -2.5, [True, None], "q'uote", {"ref": "BOX0"}]


def test_round_trip_in_memory_and_through_text():
    assert program_from_json(program_to_json(PROGRAM)) == PROGRAM
    assert program_from_json(json.loads(json.dumps(program_to_json(PROGRAM)))) == PROGRAM


def test_equality_keeps_value_types():
    def program(value):
        return Program((Step("A", "B", (Arg("x", value),)),))

    assert program(1) != program(True) and program(1) != program(1.0) and program(0) != program(False)
    assert program_from_json(program_to_json(program(1.0))).steps[0].args[0].value.__class__ is float
    assert hash(Arg("x", (1, "a"))) == hash(Arg("x", (1, "a")))


def steps(*raw):
    return {"steps": list(raw)}


@pytest.mark.parametrize("data, message", [
    (None, "non-empty list"),
    ([], "non-empty list"),
    ("steps", "non-empty list"),
    ({}, "steps"),
    (steps(), "non-empty list"),
    ({"steps": "A=B()"}, "non-empty list"),
    (steps(["A", "B"]), "step 1"),
    (steps({"module": "B"}), "output"),
    (steps({"output": "A"}), "module"),
    (steps({"output": 5, "module": "B"}), "output must be a name"),
    (steps({"output": "True", "module": "B"}), "output must be a name"),
    (steps({"output": "A B", "module": "B"}), "output must be a name"),
    (steps({"output": "A", "module": "B()"}), "module must be a name"),
    (steps({"output": "A", "module": "B", "args": []}), "args must be an object"),
    (steps({"output": "A", "module": "B", "args": {"x y": 1}}), "argument must be a name"),
    (steps({"output": "A", "module": "B", "args": {"x": {"ref": 1}}}), "'ref': NAME"),
    (steps({"output": "A", "module": "B", "args": {"x": {"ref": "a.b"}}}), "'ref': NAME"),
    (steps({"output": "A", "module": "B", "args": {"x": {"ref": "A", "y": 1}}}), "'ref': NAME"),
    (steps({"output": "A", "module": "B", "args": {"x": float("nan")}}), "finite"),
    (steps({"output": "A", "module": "B", "args": {"x": float("inf")}}), "finite"),
    (steps({"output": "A", "module": "B", "args": {"x": 10 ** 5000}}), "digits"),
    (steps({"output": "A", "module": "B", "args": {"x": [[[[[[[[[1]]]]]]]]]}}), "nested deeper"),
    (steps({"output": "A", "module": "B", "args": {"x": b"bytes"}}), "unsupported value"),
    (steps({"output": "A", "module": "B"}, {"output": "C", "module": "D", "args": {"x": {1, 2}}}), "step 2"),
])
def test_malformed_json(data, message):
    with pytest.raises(ProgramError, match=message) as caught:
        program_from_json(data)
    assert "steps" in caught.value.first.suggestion


def test_deep_nesting_is_refused_without_recursion_error():
    value: list = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(ProgramError, match="nested deeper"):
        program_from_json(steps({"output": "A", "module": "B", "args": {"x": value}}))


def test_a_step_with_a_duplicate_argument_has_no_json_form():
    with pytest.raises(ValueError, match="twice"):
        program_to_json(parse_program("A=B(x=1,x=2)"))
