"""SayCan's candidate skills from the filled library sketches: proposals consistent with the steps so
far, priors from the sketches' rank, generic candidates kept at a small prior, and a SayCan run that
follows the typed knowledge step by step (with a scripted LLM and stand-in tools)."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.agent.planning.candidates import candidates
from loupe.agent.planning.rank_planner import RankPlanner
from loupe.agent.planning.retrieval import ExampleRetriever
from loupe.agent.planning.saycan_skills import GENERIC_PRIOR, SkillSource, SketchSkills
from loupe.programs.examples_library import load_library
from loupe.programs.parser import parse_program
from loupe.programs.values import Image, Obj, Objects
from tests.support.fake_llm import FakeLLM
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

PHOTO = Image(np.zeros((8, 8, 3), np.uint8), "p")
QUESTION = "Are there both a kite and a surfboard?"  # written for this test, not a benchmark question


@pytest.fixture(scope="module")
def skills():
    registry = default_registry(Settings.from_env(), plugins=False)
    ranker = RankPlanner(FakeLLM(), registry, ExampleRetriever(load_library()))
    return SketchSkills.for_query(ranker, QUESTION, False, lm=False)


def _boxes(n: int) -> Objects:
    return Objects(tuple(Obj((0, 0, 2, 2), "x", 0.9) for _ in range(n)), (8, 8))


def test_sources_are_checked_filled_programs_best_first(skills):
    assert skills.sources and skills.sources[0].weight == 1.0
    assert all(a.weight >= b.weight for a, b in zip(skills.sources, skills.sources[1:]))
    best = "\n".join(skills.sources[0].texts)
    assert "object='kite'" in best and "object='surfboard'" in best and " and " in best
    assert skills.llm_calls == 0  # lm=False: the prior only


def test_proposals_follow_the_steps_so_far(skills):
    first = skills.propose([], {"IMAGE": None})
    assert "LOC(image=IMAGE,object='kite')" in first
    after = skills.propose(["BOX0=LOC(image=IMAGE,object='kite')"], {"IMAGE": None, "BOX0": _boxes(1)})
    assert "LOC(image=IMAGE,object='kite')" not in after and after
    # a step no filled program has: nothing is consistent any more, nothing is proposed
    assert skills.propose(["BOX0=LOC(image=IMAGE,object='zebra')"], {"IMAGE": None, "BOX0": _boxes(1)}) == {}


def test_pool_puts_proposals_first_and_keeps_generic_candidates_at_a_small_prior(skills):
    registry = default_registry(Settings.from_env(), plugins=False)
    values = {"IMAGE": PHOTO}
    generic = candidates(registry, values, QUESTION, set())
    steps, priors, set_aside = skills.pool(generic, [], values)
    assert priors[0] == pytest.approx(1.0) and steps[0].module == "LOC"
    proposed = len(skills.propose([], values))
    assert all(p == pytest.approx(GENERIC_PRIOR / (1 + GENERIC_PRIOR)) for p in priors[proposed:])
    assert all(step in generic for step in steps[proposed:]) and len(steps) > proposed
    modules = {s.module for s in steps}
    assert "LOC" in modules and "FACEDET" not in modules  # no filled program for this question finds faces
    assert any("FACEDET" in text and "no filled program" in why for text, why in set_aside)


def test_without_sources_every_generic_candidate_has_prior_one():
    empty = SketchSkills([])
    registry = default_registry(Settings.from_env(), plugins=False)
    generic = candidates(registry, {"IMAGE": PHOTO}, QUESTION, set())
    steps, priors, set_aside = empty.pool(generic, [], {"IMAGE": PHOTO})
    assert steps == generic and set(priors) == {1.0} and set_aside == ()


def test_saycan_follows_the_filled_sketch_when_the_llm_is_indifferent(registry, photo, tmp_path):
    from loupe.agent.api import Agent

    llm = FakeLLM(scorer=lambda prompt, continuation: -1.0)   # every candidate equally likely
    agent = Agent(llm=llm, registry=registry, cache_path=tmp_path / "c.sqlite", use_cache=False, mode="saycan")
    answer = agent.ask(photo, QUESTION)
    assert answer.ok, answer.errors
    steps = answer.saycan.steps
    assert [s.chosen.split("=", 1)[1].split("(")[0] for s in steps] == \
        ["LOC", "LOC", "COUNT", "COUNT", "EVAL", "RESULT"]
    assert " and " in steps[4].chosen
    first = steps[0]
    best = max(first.candidates, key=lambda c: c.combined)
    assert best.text == first.chosen and best.prior == pytest.approx(1.0)
    assert any(c.prior < 0.1 for c in first.candidates)  # generic candidates are scored too


CROP_READ = """BOX0=LOC(image=IMAGE,object='bus')
IMAGE0=CROP(image=IMAGE,box=BOX0)
TEXT0=OCR(image=IMAGE0)
ANSWER0=PICK_TEXT(text=TEXT0,question='q')
FINAL_RESULT=RESULT(var=ANSWER0)"""
WHOLE_READ = """TEXT0=OCR(image=IMAGE)
ANSWER0=PICK_TEXT(text=TEXT0,question='q')
FINAL_RESULT=RESULT(var=ANSWER0)"""


def _source(program: str, weight: float) -> SkillSource:
    steps = tuple(parse_program(program).steps)
    return SkillSource(steps, tuple(program.splitlines()), weight, "test")


def test_a_failed_step_drops_its_filled_programs_and_releases_the_dead_end():
    from loupe.agent.planning.saycan import prune

    skills = SketchSkills([_source(CROP_READ, 1.0), _source(WHOLE_READ, 0.1)])
    lines, values = ["BOX0=LOC(image=IMAGE,object='bus')"], {"IMAGE": PHOTO, "BOX0": _boxes(0)}
    assert list(skills.propose(lines, values)) == ["CROP(image=IMAGE,box=BOX0)"]
    generic = parse_program("ANSWER0=COUNT(box=BOX0)").steps[0]
    assert not skills.fail(generic, lines, values) and not skills.dead   # no filled program's step: nothing changes
    crop = parse_program("IMAGE0=CROP(image=IMAGE,box=BOX0)").steps[0]
    assert skills.fail(crop, lines, values)    # "no bus found; nothing to crop"
    assert skills.dead == {0} and skills.released == set(lines) and skills.released_outputs() == {"BOX0"}
    # the whole-photo reading goes on from here, though the run has a step it does not have
    assert list(skills.propose(lines, values)) == ["OCR(image=IMAGE)"]
    assert skills.modules_left(lines) == {"OCR", "PICK_TEXT", "RESULT"}
    # the dead end's detection need not be used before finishing
    values = {**values, "TEXT0": "x", "ANSWER0": "x"}
    done = lines + WHOLE_READ.splitlines()[:2]
    result = parse_program("FINAL_RESULT=RESULT(var=ANSWER0)").steps[0]
    registry = default_registry(Settings.from_env(), plugins=False)
    assert prune([result], registry, values, done, {"IMAGE": PHOTO})[0] == []
    assert prune([result], registry, values, done, {"IMAGE": PHOTO}, released={"BOX0"})[0] == [result]
