"""SayCan's LLM passes: a step whose winner the prior x affordance already decides (or with one candidate)
is not scored, and the trace, the JSON summary and the report say so; the LLM factor of two candidates
differs by at most ``LLM_RATIO_CAP``; a forced winner that fails gets the rest scored before the next is
tried. A scripted LLM and stand-in tools (InstantLoc)."""

from __future__ import annotations

import pytest

from loupe.agent.planning.saycan import LLM_RATIO_CAP, SayCanPlanner
from loupe.programs.parser import parse_program
from loupe.programs.trace import Status, StepRecord
from tests.support.fake_llm import FakeLLM
from loupe.tools.settings import Settings

QUESTION = "Are there both a kite and a surfboard?"  # written for this test, not a benchmark question


@pytest.fixture
def step_calls(monkeypatch):
    """The candidate texts of every SayCan step's LLM pass, in order."""
    calls: list[list[str]] = []
    score = SayCanPlanner._score

    def recording(self, prompt, options, affordances, priors):
        scored = score(self, prompt, options, affordances, priors)
        calls.append([c.text for c in scored])
        return scored

    monkeypatch.setattr(SayCanPlanner, "_score", recording)
    return calls


def _ask(registry, photo, tmp_path):
    from loupe.agent.api import Agent

    llm = FakeLLM(scorer=lambda prompt, continuation: -1.0)   # every candidate equally likely
    agent = Agent(llm=llm, registry=registry, cache_path=tmp_path / "c.sqlite", use_cache=False, mode="saycan")
    return agent.ask(photo, QUESTION)


def test_a_step_the_prior_decides_gets_no_llm_pass_and_the_trace_says_so(registry, photo, tmp_path, step_calls):
    from loupe.agent.rationale import render_html

    answer = _ask(registry, photo, tmp_path)
    assert answer.ok and answer.text == "no", answer.errors
    steps = answer.saycan.steps
    skipped = [s for s in steps if s.llm_pass]
    scored = [s for s in steps if not s.llm_pass]
    assert skipped and scored
    # one LLM pass per scored step, none for the skipped ones
    assert step_calls == [[c.text for c in s.candidates] for s in scored]
    assert answer.llm_calls == len(scored) + 1  # and the ranking's one pass over whole programs
    for step in skipped:
        assert all(c.llm_logprob is None and c.llm == 1.0 for c in step.candidates)
        base = sorted((c.prior * c.affordance for c in step.candidates), reverse=True)
        assert len(base) == 1 or base[0] > LLM_RATIO_CAP * base[1]
        assert step.chosen == max(step.candidates, key=lambda c: c.combined).text
    assert all(c.llm_logprob is not None for s in scored for c in s.candidates)
    summary = skipped[0].summary()
    assert summary["llm_pass"] == skipped[0].llm_pass and summary["candidates"][0]["llm_logprob"] is None
    assert scored[0].summary()["llm_pass"] == "scored"
    html = render_html(answer.execution, answer.saycan)
    assert "LLM pass skipped" in html and "not run" in html


def test_the_llm_factor_of_two_candidates_differs_by_at_most_the_cap(registry):
    steps = parse_program("BOX0=LOC(image=IMAGE,object='kite')\nBOX1=LOC(image=IMAGE,object='sea')").steps
    llm = FakeLLM(scorer=lambda prompt, continuation: 0.0 if "kite" in continuation else -500.0)
    planner = SayCanPlanner(llm, registry, None, None)
    kite, sea = planner._score("Question: q\nProgram:\n", steps, [1.0, 1.0], [0.1, 1.0])
    assert kite.llm / sea.llm == pytest.approx(LLM_RATIO_CAP)
    assert sea.llm_logprob == -500.0  # the raw likelihood is kept for the trace
    # the LLM may still overturn a prior lead smaller than the cap (10x here)
    assert kite.combined / sea.combined == pytest.approx(0.1 * LLM_RATIO_CAP)


class _Runner:
    """Stands in for the interpreter: the steps named in ``fail`` fail, the others give 1."""

    def __init__(self, fail: set[str]):
        self.fail, self.ran = fail, []

    def run_step(self, step, values):
        self.ran.append(step.output + "=" + step.module)
        if step.arg("object") in self.fail:
            return StepRecord(0, step.output, step.module, 1, Status.FAILED, error="stand-in failure")
        return StepRecord(0, step.output, step.module, 1, Status.OK, value=1)


def _decide(registry, fail: set[str], objects=("kite", "sea", "boat")):
    steps = parse_program("\n".join(f"BOX0=LOC(image=IMAGE,object='{o}')" for o in objects)).steps
    llm = FakeLLM(scorer=lambda prompt, continuation: 0.0 if "boat" in continuation else -3.0)
    planner = SayCanPlanner(llm, registry, None, _Runner(fail))
    failed: list = []
    outcome = planner._decide("Question: q\nProgram:\n", list(steps), [1.0] * len(steps),
                              [1.0] + [0.01] * (len(steps) - 1), {}, [], set(), failed)
    return outcome, failed, llm


def test_a_forced_winner_that_fails_gets_the_rest_scored(registry):
    outcome, failed, llm = _decide(registry, {"kite"})
    assert [r.error for r in failed] == ["stand-in failure"]
    # kite was forced by its prior (100x the others) and failed: the two left were scored, the LLM chose
    assert outcome.kind == "ran" and outcome.text == "BOX0=LOC(image=IMAGE,object='boat')"
    assert outcome.llm_pass == "" and outcome.calls == 1 and llm.usage.calls == 1
    assert all(c.llm_logprob is not None for c in outcome.scored)


def test_a_forced_winner_that_fails_with_one_candidate_left_runs_it_unscored(registry):
    outcome, failed, llm = _decide(registry, {"kite"}, objects=("kite", "sea"))
    assert outcome.kind == "ran" and outcome.text == "BOX0=LOC(image=IMAGE,object='sea')"
    assert llm.usage.calls == 0 and outcome.calls == 0
    assert "failed" in outcome.llm_pass and "one candidate left" in outcome.llm_pass


def test_a_forced_winner_runs_without_an_llm_pass(registry):
    outcome, failed, llm = _decide(registry, set())
    assert outcome.kind == "ran" and outcome.text == "BOX0=LOC(image=IMAGE,object='kite')" and not failed
    assert llm.usage.calls == 0 and "prior x affordance decides" in outcome.llm_pass


def test_the_best_filled_programs_first_step_is_warmed_once_and_never_run_twice_at_once(photo, tmp_path):
    from loupe.agent.api import Agent
    from tests.support.fakes import SlowLoc
    from loupe.tools.registry import default_registry

    events: list[tuple[str, str]] = []

    class RecordingLoc(SlowLoc):
        delay = 0.05
        count_for = {"kite": 1}

        def execute(self, image, object):
            events.append(("start", object))
            try:
                return super().execute(image, object)
            finally:
                events.append(("end", object))

    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(RecordingLoc)
    llm = FakeLLM(scorer=lambda prompt, continuation: -1.0)
    answer = Agent(llm=llm, registry=registry, cache_path=tmp_path / "c.sqlite", use_cache=False,
                   mode="saycan").ask(photo, QUESTION)
    assert answer.ok and answer.text == "no", answer.errors
    kite = [kind for kind, name in events if name == "kite"]
    # warmed in the background, then run (and traced) once chosen, after the warm run ended
    assert kite == ["start", "end", "start", "end"]
    assert sum(r.module == "LOC" and "kite" in str(r.inputs) for r in answer.execution.records) == 1
