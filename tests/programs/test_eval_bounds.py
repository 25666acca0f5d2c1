"""EVAL whole numbers are bounded (checked by bit length before the operation runs), and cheap steps
(EVAL, COUNT, RESULT) run under the same step time limit as every other step."""

from __future__ import annotations

import threading

import pytest

from fakes import registry_with
from loupe.programs.errors import ProgramError
from loupe.programs.interpreter import Interpreter
from loupe.programs.safe_eval import parse_expression
from loupe.programs.safe_eval_semantics import MAX_INT_DIGITS
from loupe.programs.trace import Status
from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool

BIG = "9" * 399  # the longest literal the lexer takes is 400 characters


def evaluate(expr: str, **env):
    return parse_expression(expr).evaluate(env)


def test_numbers_up_to_the_bound_compute_exactly():
    assert evaluate(f"{BIG} * {BIG}") == int(BIG) ** 2            # 798 digits
    assert evaluate("{A} + 1", A=10 ** (MAX_INT_DIGITS - 2)) == 10 ** (MAX_INT_DIGITS - 2) + 1
    assert evaluate("{A} // 7 % 5", A=10 ** 900) == (10 ** 900 // 7) % 5


@pytest.mark.parametrize("expr, env", [
    (f"{BIG} * {BIG} * {BIG}", {}),                          # 1,197 digits
    ("{A} * {A}", {"A": 10 ** 600}),
    ("-{A} - {A}", {"A": 10 ** MAX_INT_DIGITS - 1}),
    ("{A}" + " * {A}" * 150, {"A": int(BIG)}),                # the hang: would be ~60,000 digits
    ("{A} * {A} * {A} * {A} * {A} * {A}", {"A": 10 ** 799}),  # over 4,300 digits: str() of it would fail
])
def test_growth_past_the_bound_is_a_program_error(expr, env):
    with pytest.raises(ProgramError, match=f"EVAL number too large: .* could have more than {MAX_INT_DIGITS} "
                                           "digits"):
        evaluate(expr, **env)


def test_the_message_never_prints_a_huge_number():
    with pytest.raises(ProgramError) as info:
        evaluate("{A} * {A}", A=10 ** 999)
    assert "a 1000-digit number * a 1000-digit number" in str(info.value) and len(str(info.value)) < 300


def test_big_times_float_overflows_cleanly():
    with pytest.raises(ProgramError, match="overflowed"):
        evaluate(f"{BIG} * 1.5")


def test_five_lines_squaring_a_399_digit_number_fail_at_the_second_line():
    lines = [f"N0=EVAL(expr='{BIG} * {BIG}')"] + [f"N{i}=EVAL(expr='{{N{i - 1}}} * {{N{i - 1}}}')" for i in range(1, 5)]
    program = "\n".join(lines) + "\nR=RESULT(var=N4)"
    execution = Interpreter(registry_with(), step_timeout_s=5).run(program, {})
    statuses = [r.status for r in execution.records]
    assert statuses == [Status.OK, Status.FAILED] + [Status.SKIPPED] * 4
    assert "EVAL number too large" in execution.records[1].error and not execution.crashed


class SlowCount(Tool):
    """A cheap tool that is not: it blocks until released (or 10 s)."""

    name = "SLOWCOUNT"
    description = "Test: a cheap tool that hangs."
    inputs = {"n": Param(ValueType.NUMBER)}
    output = ValueType.NUMBER
    cheap = True
    release = threading.Event()

    def execute(self, n):
        type(self).release.wait(10)
        return n


def test_a_cheap_step_runs_under_the_step_time_limit():
    SlowCount.release.clear()
    program = "A=SLOWCOUNT(n=3)\nB=EVAL(expr='{A} + 1')\nR=RESULT(var=B)"
    try:
        execution = Interpreter(registry_with(SlowCount), step_timeout_s=0.3).run(program, {})
    finally:
        SlowCount.release.set()
    assert [r.status for r in execution.records] == [Status.TIMEOUT, Status.SKIPPED, Status.SKIPPED]
    assert "step time limit of 0.3 s" in execution.records[0].error
