"""Fuzzing the readers of programs (issue 10): the lexer, the VisProg parser, the task-list reader, the checker
and EVAL raise only their typed errors, with bounded messages and values, on a few thousand generated inputs
per run: mutated real programs (tests/support/fuzz_targets.py), well-formed random programs and EVAL
expressions, and arbitrary text. bench/bench_fuzz.py runs the same targets on >= 1M inputs."""

import random

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

import fuzz_targets

SETTINGS = settings(max_examples=500, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("target", list(fuzz_targets.TARGETS))
def test_generated_inputs_raise_only_typed_errors(target):
    @SETTINGS
    @given(st.integers(0, 2**64) | st.text(max_size=100))
    def holds(choice):
        text = choice if isinstance(choice, str) else fuzz_targets.generated(target, random.Random(choice))
        assert fuzz_targets.run(target, text) in ("ok", "error")

    holds()


def test_the_contract_catches_a_broken_reader(monkeypatch):
    """The check itself works: an untyped exception and an oversized message are both reported."""
    monkeypatch.setitem(fuzz_targets.TARGETS, "parser", lambda text: {}[text])
    with pytest.raises(fuzz_targets.Broken, match="KeyError"):
        fuzz_targets.run("parser", "A=B()")
    from loupe.programs.errors import ProgramError

    def chatty(text):
        raise ProgramError.at("x" * 100_000)

    monkeypatch.setitem(fuzz_targets.TARGETS, "parser", chatty)
    with pytest.raises(fuzz_targets.Broken, match="character error"):
        fuzz_targets.run("parser", "A=B()")


def test_seeds_are_real_programs_that_check():
    seeds = fuzz_targets.seeds()
    assert len(seeds["parser"]) >= 50 and len(seeds["task lists"]) >= 10 and len(seeds["EVAL"]) >= 10
    outcomes = [fuzz_targets.run("checker", text) for text in seeds["checker"]]
    assert outcomes.count("ok") >= 0.9 * len(outcomes)
