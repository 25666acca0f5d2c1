"""Task lists and SayCan with the embedded model, with a scripted LLM and stand-in tools: tasks mode
renders the program planner's plan (one IR, two surfaces); SayCan prunes what cannot succeed before
scoring and scores each step in one call."""

import json

import numpy as np

from fake_llm import FakeLLM
from fakes import InstantLoc
from loupe.programs.checker import check
from loupe.programs.parser import parse_program
from loupe.programs.task_render import program_to_tasks_json
from loupe.programs.values import Image
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

TWO_THINGS = """BOX0=LOC(image=IMAGE,object='tie')
BOX1=LOC(image=IMAGE,object='glasses')
ANSWER0=COUNT(box=BOX0)
ANSWER1=COUNT(box=BOX1)
ANSWER2=EVAL(expr="'yes' if {ANSWER0} > 0 or {ANSWER1} > 0 else 'no'")
FINAL_RESULT=RESULT(var=ANSWER2)
"""


class EmbeddedFake(FakeLLM):
    """Scripted, but it says it is the embedded model (provider "local"), with a one-call tree scorer."""

    provider = "local"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tree_calls: list[list[str]] = []

    def score_tree(self, prompt, continuations):
        self.tree_calls.append(list(continuations))
        return self.score(prompt, continuations)


def make_agent(registry, llm, tmp_path, mode, planner="auto"):
    from loupe.agent.api import Agent

    return Agent(llm=llm, registry=registry, cache_path=tmp_path / "cache.sqlite", use_cache=False, mode=mode,
                 planner=planner)


def test_tasks_mode_with_the_embedded_model_is_the_rendered_program_plan(registry, photo, tmp_path):
    llm = EmbeddedFake().enqueue(TWO_THINGS)  # one completion: the program planner's; no JSON is generated
    agent = make_agent(registry, llm, tmp_path, "tasks", planner="generate")  # the scripted program, not ranked
    events = list(agent.stream(photo, "Is there a tie or glasses?"))
    plan = next(e for e in events if e.get("event") == "plan")
    expected = program_to_tasks_json(check(parse_program(TWO_THINGS), registry).program)
    assert plan["program"] == expected
    assert [t["task"] for t in json.loads(plan["program"])] == ["object-detection"] * 2 + ["object-counting"] * 2 + ["EVAL"]
    answer = events[-1]["answer_object"]
    assert answer.ok and answer.text == "yes" and "Program:" in llm.prompts[0]


def test_tasks_mode_with_other_models_still_generates_json(registry, photo, tmp_path):
    from loupe.agent.planning.planner import TaskPlanner

    planner = make_agent(registry, FakeLLM(), tmp_path, "tasks").deps.planner("tasks")
    assert isinstance(planner, TaskPlanner) and not planner.via_program_planner()


def test_saycan_prunes_zero_affordance_and_scores_each_step_in_one_call(registry, photo, tmp_path, monkeypatch):
    facedet = type(registry.tool("FACEDET"))
    monkeypatch.setattr(facedet, "affordance", lambda self, args: 0.0)
    wanted = ["BOX0=LOC(image=IMAGE,object='tie')", "ANSWER0=COUNT(box=BOX0)", "FINAL_RESULT=RESULT(var=ANSWER0)"]

    def scorer(prompt, continuation):
        done = sum(line in prompt.rsplit("Question: How many ties?", 1)[1] for line in wanted)
        return 0.0 if continuation.strip() == wanted[done] else -20.0

    llm = EmbeddedFake(scorer=scorer)
    monkeypatch.setattr(InstantLoc, "count_for", {"tie": 3})
    answer = make_agent(registry, llm, tmp_path, "saycan").ask(photo, "How many ties?")
    assert answer.ok and answer.text == "3"
    run = answer.saycan
    assert [s.chosen for s in run.steps] == wanted
    assert len(llm.tree_calls) == len(run.steps)  # one scoring call per step
    scored = [c for call in llm.tree_calls for c in call]
    assert not any("FACEDET" in c for c in scored)
    # FACEDET is not scored: no filled program for the question uses it, and its affordance is 0 here
    assert any(text == "OBJ0=FACEDET(image=IMAGE)" for text, _ in run.steps[0].pruned)
    from loupe.agent.planning.saycan import prune
    from loupe.programs.parser import parse_program as parse

    facedet = parse("OBJ0=FACEDET(image=IMAGE)").steps[0]
    assert prune([facedet], registry, {"IMAGE": photo}, [], {"IMAGE": photo})[2] == \
        (("OBJ0=FACEDET(image=IMAGE)", "affordance 0"),)
    # finishing early would leave the detection unused; edits do not answer a question
    assert not any(c.startswith("FINAL_RESULT=RESULT(var=BOX0)") for c in scored)
    assert not any("=TAG(" in c or "=BLUR(" in c for c in scored)
    assert all(c.text in {x.strip() for x in llm.tree_calls[i]} for i, s in enumerate(run.steps) for c in s.candidates)


def test_rationale_lists_what_saycan_did_not_score(registry, photo, tmp_path, monkeypatch):
    from loupe.agent.rationale import render_html

    monkeypatch.setattr(type(registry.tool("FACEDET")), "affordance", lambda self, args: 0.0)
    llm = EmbeddedFake(scorer=lambda prompt, c: 0.0 if "LOC" in c or "COUNT" in c or "RESULT" in c else -9.0)
    answer = make_agent(registry, llm, tmp_path, "saycan").ask(photo, "How many ties?")
    html = render_html(answer.execution, answer.saycan)
    assert "not scored" in html and "OBJ0=FACEDET(image=IMAGE)" in html and "no filled program" in html
    assert "skill prior" in html  # each scored candidate's prior from the filled sketches


def test_saycan_eval_must_use_every_count_not_used_yet():
    from loupe.agent.planning.saycan import prune
    from loupe.programs.values import Obj, Objects

    registry = default_registry(Settings.from_env(), plugins=False)
    photo = Image(np.zeros((8, 8, 3), np.uint8), "p")
    values = {"IMAGE": photo, "BOX0": Objects((Obj((0, 0, 2, 2), "a", 0.9),), (8, 8)),
              "BOX1": Objects((), (8, 8)), "ANSWER0": 1, "ANSWER1": 0}
    lines = ["BOX0=LOC(image=IMAGE,object='a')", "BOX1=LOC(image=IMAGE,object='b')",
             "ANSWER0=COUNT(box=BOX0)", "ANSWER1=COUNT(box=BOX1)"]
    from loupe.agent.planning.candidates import candidates

    options = [s for s in candidates(registry, values, "Is there a or b?", set()) if s.module == "EVAL"]
    kept, _, pruned = prune(options, registry, values, lines, {"IMAGE": photo}, question=True)
    assert kept and all("{ANSWER0}" in s.arg("expr") and "{ANSWER1}" in s.arg("expr") for s in kept)
    assert any("'yes' if {ANSWER0} > 0 else 'no'" in text for text, _ in pruned)


def test_tasks_mode_replans_through_the_ranking_planner(registry, tmp_path):
    """One IR, two surfaces: after a failed step, the task list is program mode's ranked next candidate
    (not the same plan again), rendered."""
    from loupe.agent.planning.planner import Draft

    agent = make_agent(registry, EmbeddedFake(scorer=lambda prompt, continuation: 0.0), tmp_path, "tasks")
    tasks, program = agent.deps.planner("tasks"), agent.deps.planner("program")
    query = "What does the label on the bottle say?"
    first = tasks.draft(query)
    assert first.checked is not None and "object='bottle'" in first.reply and "CROP" in first.reply
    failed = [{"line": 2, "output": "IMAGE0", "module": "CROP", "args": {"image": {"ref": "IMAGE"},
                                                                         "box": {"ref": "BOX0"}},
               "refused": False, "error": "no bottle found in photo.jpg; nothing to crop"}]  # the graph's failed_steps
    kept = Draft(first.prompt, first.reply, "", 0, first.examples)   # what the graph's state keeps
    again, expected = tasks.replan(kept, failed, query), program.replan(kept, failed, query)
    assert "bottle'" not in expected.text and again.reply == expected.text
    assert again.text == program_to_tasks_json(check(parse_program(expected.text), registry).program)
    assert again.ranking and again.checked is not None
