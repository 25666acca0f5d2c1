"""Property tests: arbitrary input never raises anything but ProgramError; valid programs round-trip."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Program, Ref, Step, program_from_json, program_to_json
from loupe.programs.parser import parse_program
from loupe.programs.render import render
from loupe.programs.safe_eval import parse_expression
from loupe.programs.tasks import parse_tasks
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODULES = default_registry(Settings.from_env(), plugins=False).names()

VISPROG_ALPHABET = st.sampled_from(list("ABXY_019 =,()[]{}'\"\\#.-+*/<>:\n\t") + ["True", "None", "LOC", "EVAL",
                                                                                "expr", "and", "if", "else"])
visprog_like = st.lists(VISPROG_ALPHABET, max_size=60).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


def only_program_errors(call, *args):
    try:
        call(*args)
    except ProgramError:
        pass


@FAST
@given(st.text(max_size=300) | visprog_like)
def test_parse_program_raises_only_program_errors(text):
    only_program_errors(parse_program, text)


@FAST
@given(json_values)
def test_program_from_json_raises_only_program_errors(data):
    only_program_errors(program_from_json, data)
    only_program_errors(program_from_json, {"steps": data})
    only_program_errors(program_from_json, {"steps": [{"output": "A", "module": "B", "args": data}]})


@FAST
@given(json_values | st.text(max_size=200))
def test_parse_tasks_raises_only_program_errors(data):
    only_program_errors(parse_tasks, data)
    only_program_errors(parse_tasks, json.dumps(data) if not isinstance(data, str) else data)
    only_program_errors(parse_tasks, [{"task": "object-detection", "id": 0, "dep": [-1], "args": data}])


EXPR_ALPHABET = st.sampled_from(list("{}AB01 .'\"()[]+-*/%<>=!:,\\") + [
    " and ", " or ", " not ", " xor ", " if ", " else ", "**", "__import__", "lambda", "{A}", "{B}", "1e999"])
env_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(
    ["yes", "no", "3", "three", "' or 1 or '", "{B}", "__import__('os')"])


@FAST
@given(st.text(max_size=100) | st.lists(EXPR_ALPHABET, max_size=30).map("".join), env_values, env_values)
def test_expressions_raise_only_program_errors(source, a, b):
    try:
        parse_expression(source).evaluate({"A": a, "B": b})
    except ProgramError:
        pass


# ---- generated valid programs round-trip ------------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in ("True", "False", "None"))
tricky_text = st.text(max_size=20) | st.sampled_from(
    ["", "'", '"', "'\"", "\\", "\\'", "\\n", "\n", "\0", "\x0c", "\u2028", "\x85", "#", "😀", "\ud800", "a,b)"])
literals = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False, allow_infinity=False)
            | tricky_text)
values = st.recursive(literals | names.map(Ref), lambda inner: st.lists(inner, max_size=3).map(tuple), max_leaves=8)
steps = st.builds(
    Step, names, st.sampled_from(MODULES),
    st.lists(st.builds(Arg, names, values), max_size=4, unique_by=lambda a: a.name).map(tuple))
programs = st.lists(steps, min_size=1, max_size=5).map(lambda s: Program(tuple(s)))


@FAST
@given(programs)
def test_render_then_parse_is_the_identity(program):
    assert parse_program(render(program)) == program


@FAST
@given(programs)
def test_json_round_trip_is_the_identity(program):
    assert program_from_json(program_to_json(program)) == program
    assert program_from_json(json.loads(json.dumps(program_to_json(program)))) == program
