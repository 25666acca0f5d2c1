"""The agent graph with a scripted LLM and stand-in tools: every edge (repair, replan, approval, cache,
SayCan) is driven by a test."""

import pytest

from fake_llm import FakeLLM
from fakes import InstantLoc
from loupe.programs.values import Image
from loupe.programs.errors import ToolUnavailable
from loupe.tools.registry import default_registry
from loupe.tools.replace import Replace
from loupe.tools.settings import Settings

GOOD = """BOX0=LOC(image=IMAGE,object='tie')
ANSWER0=COUNT(box=BOX0)
FINAL_RESULT=RESULT(var=ANSWER0)"""


def make_agent(registry, llm, tmp_path, **kwargs):
    from loupe.agent.api import Agent

    kwargs.setdefault("use_cache", False)
    return Agent(llm=llm, registry=registry, cache_path=tmp_path / "cache.sqlite", **kwargs)


def test_plan_check_execute_answer(registry, photo, tmp_path):
    llm = FakeLLM().enqueue("Program:\n```\n" + GOOD + "\n```\nThis counts ties.")
    answer = make_agent(registry, llm, tmp_path).ask(photo, "How many ties are there?")
    assert answer.ok and answer.text == "2"
    assert answer.llm_calls == 1 and answer.prompt_tokens > 0 and not answer.from_cache
    assert answer.program == GOOD + "\n"
    assert [e["output"] for e in answer.events if e["event"] == "step"] == ["BOX0", "ANSWER0", "FINAL_RESULT"]
    prompt = llm.prompts[0]
    assert "LOC(image: Image, object: Text) -> Objects" in prompt and "Question: How many ties are there?" in prompt


def test_invalid_program_is_repaired_with_the_checkers_messages(registry, photo, tmp_path):
    llm = FakeLLM().enqueue("BOX0=LOCATE(image=IMAGE,object='tie')\nFINAL_RESULT=RESULT(var=BOX0)", GOOD)
    answer = make_agent(registry, llm, tmp_path).ask(photo, "How many ties?")
    assert answer.ok and answer.text == "2" and answer.llm_calls == 2
    assert "unknown module LOCATE; did you mean LOC?" in llm.prompts[1]
    assert [e["event"] for e in answer.events if e["event"] in ("check", "repair")] == ["check", "repair", "check"]


def test_repair_is_bounded(registry, photo, tmp_path):
    bad = "X=NOPE(a=1)"
    llm = FakeLLM().enqueue(bad, bad, bad)
    answer = make_agent(registry, llm, tmp_path, max_repairs=1).ask(photo, "How many ties?")
    assert answer.status == "invalid_program" and answer.llm_calls == 2
    assert any("unknown module NOPE" in e for e in answer.errors)


def test_a_failed_step_replans_with_the_error(registry, photo, tmp_path):
    crashing = GOOD.replace("'tie'", "'boom'")
    llm = FakeLLM().enqueue(crashing, GOOD)
    answer = make_agent(registry, llm, tmp_path).ask(photo, "How many ties?")
    assert answer.ok and answer.text == "2" and answer.llm_calls == 2
    assert "RuntimeError: model crashed" in llm.prompts[1]


def test_program_cache_reuses_a_template_without_an_llm_call(registry, photo, tmp_path):
    InstantLoc.count_for = {**InstantLoc.count_for, "ties": 2}
    llm = FakeLLM().enqueue(GOOD.replace("'tie'", "'ties'"))
    agent = make_agent(registry, llm, tmp_path, use_cache=True)
    first = agent.ask(photo, "Please tally up the ties for me")
    second = agent.ask(photo, "Please tally up the glasses for me")
    assert first.ok and not first.from_cache and first.llm_calls == 1
    assert second.ok and second.from_cache and second.llm_calls == 0
    assert "object='glasses'" in second.program and second.text == "1"
    plan_events = [e for e in second.events if e["event"] == "plan"]
    assert plan_events[0]["source"] == "cache"  # the trace says where the program came from


def test_the_cache_is_keyed_by_the_reading_so_a_courteous_wording_finds_the_plain_ones_program(registry, photo,
                                                                                             tmp_path):
    InstantLoc.count_for = {**InstantLoc.count_for, "ties": 2}
    llm = FakeLLM().enqueue(GOOD.replace("'tie'", "'ties'"))
    agent = make_agent(registry, llm, tmp_path, use_cache=True)
    first = agent.ask(photo, "tally up the ties")
    second = agent.ask(photo, "Could you tally up the glasses for me, pls?")   # no second reply enqueued
    assert first.ok and second.from_cache and second.llm_calls == 0 and "object='glasses'" in second.program


def test_the_cache_is_seeded_from_the_curated_library(registry, photo, tmp_path):
    agent = make_agent(registry, FakeLLM(), tmp_path, use_cache=True)  # no reply enqueued: no LLM call allowed
    answer = agent.ask(photo, "How many ties are there?")  # the library has "How many ... are there?"
    assert answer.ok and answer.from_cache and answer.llm_calls == 0 and "object='ties'" in answer.program


def test_edits_wait_for_approval(registry, photo, tmp_path):
    program = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"
    asked = []

    def refuse(program_text, edits):
        asked.append(edits)
        return False

    answer = make_agent(registry, FakeLLM().enqueue(program), tmp_path, approve=refuse).ask(photo, "pop the tie")
    assert asked == [["COLORPOP"]] and answer.status == "rejected" and answer.image is None
    assert not [e for e in answer.events if e["event"] == "step"]  # nothing ran

    accepted = make_agent(registry, FakeLLM().enqueue(program), tmp_path, approve=lambda p, e: True)
    answer = accepted.ask(photo, "pop the tie")
    assert answer.ok and isinstance(answer.image, Image) and answer.image.size == photo.size


def test_task_mode_plans_a_task_list(registry, photo, tmp_path):
    tasks = ('[{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "image.jpg", "text": "tie"}},'
             ' {"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}}]')
    answer = make_agent(registry, FakeLLM().enqueue("Tasks: " + tasks), tmp_path, mode="tasks").ask(photo, "count ties")
    assert answer.ok and answer.text == "2" and "LOC(image=IMAGE,object='tie')" in answer.program


def test_saycan_scores_every_candidate_and_stops_at_result(registry, photo, tmp_path):
    wanted = ["BOX0=LOC(image=IMAGE,object='tie')", "ANSWER0=COUNT(box=BOX0)", "FINAL_RESULT=RESULT(var=ANSWER0)"]

    def scorer(prompt, continuation):
        step = continuation.strip()
        so_far = prompt.rsplit("Question: how many ties", 1)[1]  # after the few-shot examples
        done = sum(line in so_far for line in wanted)
        return 0.0 if done < len(wanted) and step == wanted[done] else -20.0

    llm = FakeLLM(scorer=scorer)
    answer = make_agent(registry, llm, tmp_path, mode="saycan").ask(photo, "how many ties")
    assert answer.ok and answer.text == "2"
    run = answer.saycan
    assert [s.chosen for s in run.steps] == wanted
    first = run.steps[0].candidates
    assert len(first) >= 3 and all(0 <= c.llm <= 1 and 0 <= c.affordance <= 1 and 0 < c.prior <= 1 for c in first)
    assert max(first, key=lambda c: c.combined).text == wanted[0]
    assert answer.llm_calls == 3


def test_graph_shape_is_pinned_by_its_mermaid_drawing(registry, tmp_path):
    """The graph's nodes and edges as drawn by LangGraph; update the .mmd file when the shape changes."""
    from pathlib import Path

    drawing = make_agent(registry, FakeLLM(), tmp_path).graph.get_graph().draw_mermaid()
    assert drawing == (Path(__file__).parent / "data" / "agent_graph.mmd").read_text()


def test_saycan_rationale_lists_every_candidates_scores(registry, photo, tmp_path):
    from loupe.agent.rationale import render_html

    llm = FakeLLM(scorer=lambda prompt, c: -len(c))  # prefers the shortest step: RESULT comes late
    answer = make_agent(registry, llm, tmp_path, mode="saycan").ask(photo, "how many ties")
    page = render_html(answer.execution, saycan=answer.saycan)
    first = answer.saycan.steps[0]
    assert "SayCan choices" in page and "prior x LLM x affordance" in page
    assert all(c.text.replace("'", "&#x27;") in page for c in first.candidates)


POP = "BOX0=LOC(image=IMAGE,object='{}')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"
BLUR = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=BLUR(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"


def test_a_replanned_program_with_other_edits_is_asked_about_again(registry, photo, tmp_path):
    asked = []

    def decide(answers):
        def approve(program_text, edits):
            asked.append((edits, program_text.splitlines()[1]))
            return answers[len(asked) - 1]
        return approve

    # the approved COLORPOP program crashes in LOC; the replanned BLUR program must be approved too
    agent = make_agent(registry, FakeLLM().enqueue(POP.format("boom"), BLUR), tmp_path, approve=decide([True, False]))
    answer = agent.ask(photo, "blur the tie")
    assert asked == [(["COLORPOP"], "IMAGE0=COLORPOP(image=IMAGE,object=BOX0)"),
                     (["BLUR"], "IMAGE0=BLUR(image=IMAGE,object=BOX0)")]
    assert answer.status == "rejected" and answer.image is None and answer.llm_calls == 2
    assert "BLUR" not in [e["module"] for e in answer.events if e["event"] == "step"]  # the refused edit never ran

    asked.clear()
    agent = make_agent(registry, FakeLLM().enqueue(POP.format("boom"), BLUR), tmp_path, approve=decide([True, True]))
    answer = agent.ask(photo, "blur the tie")
    assert [a[0] for a in asked] == [["COLORPOP"], ["BLUR"]]
    assert answer.ok and answer.image is not None and "BLUR" in answer.program


def test_a_repaired_program_is_approved_as_repaired(registry, photo, tmp_path):
    asked = []
    bad = POP.format("tie").replace("COLORPOP(image=IMAGE,object=BOX0)", "COLORPOP(image=IMAGE,objekt=BOX0)")
    agent = make_agent(registry, FakeLLM().enqueue(bad, POP.format("tie")), tmp_path,
                       approve=lambda p, e: asked.append(p) or True)
    answer = agent.ask(photo, "pop the tie")
    assert answer.ok and len(asked) == 1 and "object=BOX0" in asked[0]  # only the checked program is shown


def _saycan_scorer(wanted, question):
    def scorer(prompt, continuation):
        so_far = prompt.rsplit(f"Question: {question}", 1)[1]
        done = sum(line in so_far for line in wanted)
        return 0.0 if done < len(wanted) and continuation.strip() == wanted[done] else -20.0
    return scorer


def test_saycan_asks_before_an_image_writing_step(registry, photo, tmp_path):
    wanted = ["BOX0=LOC(image=IMAGE,object='tie')", "IMAGE0=BLUR(image=IMAGE,object=BOX0)",
              "FINAL_RESULT=RESULT(var=IMAGE0)"]
    asked = []
    llm = FakeLLM(scorer=_saycan_scorer(wanted, "blur the tie"))
    refusing = make_agent(registry, llm, tmp_path, mode="saycan", approve=lambda p, e: asked.append((p, e)) and False)
    answer = refusing.ask(photo, "blur the tie")
    assert asked == [("\n".join(wanted[:2]), ["BLUR"])]  # asked once, before BLUR, with the steps so far
    assert answer.status == "rejected" and answer.image is None
    assert [s.chosen for s in answer.saycan.steps] == wanted[:1]  # LOC ran; BLUR never did
    assert [e for e in answer.events if e["event"] == "approval"] == [
        {"event": "approval", "approved": False, "edits": ["BLUR"]}]

    accepting = make_agent(registry, FakeLLM(scorer=_saycan_scorer(wanted, "blur the tie")), tmp_path, mode="saycan",
                           approve=lambda p, e: True)
    answer = accepting.ask(photo, "blur the tie")
    assert answer.ok and answer.image is not None and answer.image.size == photo.size
    assert [s.chosen for s in answer.saycan.steps] == wanted


def test_saycan_without_approval_runs_edits_unasked(registry, photo, tmp_path):
    wanted = ["BOX0=LOC(image=IMAGE,object='tie')", "IMAGE0=COLORPOP(image=IMAGE,object=BOX0)",
              "FINAL_RESULT=RESULT(var=IMAGE0)"]
    answer = make_agent(registry, FakeLLM(scorer=_saycan_scorer(wanted, "pop the tie")), tmp_path,
                        mode="saycan").ask(photo, "pop the tie")
    assert answer.ok and answer.image is not None
    assert not [e for e in answer.events if e["event"] == "approval"]


def test_a_question_over_the_length_limit_is_refused_before_any_llm_call(registry, photo, tmp_path):
    from loupe.agent.api import MAX_QUERY_CHARS
    from loupe.programs.errors import InputError

    llm = FakeLLM()
    with pytest.raises(InputError, match=f"{MAX_QUERY_CHARS + 1:,} characters long; the limit is"):
        make_agent(registry, llm, tmp_path).ask(photo, "x" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(InputError, match="the question is empty"):
        make_agent(registry, llm, tmp_path).ask(photo, "  ")
    assert llm.usage.calls == 0


def test_close_removes_the_temporary_image_folder(registry, photo, tmp_path):
    # with a checkpoint file, a run's images are written so another process can resume it
    with make_agent(registry, FakeLLM().enqueue(POP.format("tie")), tmp_path,
                    checkpoint=tmp_path / "runs.sqlite") as agent:
        assert agent.ask(photo, "pop the tie").ok
        folder = agent.deps.images.folder
        assert any(folder.glob("*.png"))  # the edit's result was kept there during the run
    assert not folder.exists()


def test_without_a_checkpoint_no_image_is_written(registry, photo, tmp_path):
    with make_agent(registry, FakeLLM().enqueue(POP.format("tie")), tmp_path) as agent:
        answer = agent.ask(photo, "pop the tie")
        assert answer.ok and answer.image is not None
        assert agent.deps.images._temporary is None  # no temporary folder was ever made


def test_a_corrupt_program_cache_warns_and_the_question_is_still_answered(registry, photo, tmp_path):
    from loupe.agent.api import Agent
    from loupe.agent.graph_deps import CacheWarning

    broken = tmp_path / "cache.sqlite"
    broken.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.warns(CacheWarning, match="cache.sqlite cannot be used .*going on without it"):
        agent = Agent(llm=FakeLLM().enqueue(GOOD), registry=registry, cache_path=broken)
    answer = agent.ask(photo, "How many ties are there?")
    assert answer.ok and answer.text == "2" and answer.llm_calls == 1 and not answer.from_cache
    assert broken.read_bytes().startswith(b"this is not an SQLite database")  # the user's file is left alone

class SeekingLoc(InstantLoc):
    """A stand-in LOC that says what it looked for, as the real LOC does."""

    def execute(self, image, object):
        return super().execute(image, object).looking_for(object)


def test_an_edit_of_nothing_fails_saying_what_was_not_found_and_replans(photo, tmp_path):
    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(SeekingLoc)
    crop = "BOX0=LOC(image=IMAGE,object='kite')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\nFINAL_RESULT=RESULT(var=IMAGE0)"
    llm = FakeLLM().enqueue(crop, crop)
    answer = make_agent(registry, llm, tmp_path).ask(Image(photo.pixels, "/data/photo.jpg"), "Crop to the kite")
    assert not answer.ok and answer.image is None and answer.llm_calls == 2  # planned, then replanned once
    assert "because" in [e for e in answer.events if e["event"] == "replan"][0]
    assert any("no kite found in photo.jpg; nothing to crop" in error for error in answer.errors), answer.errors

def test_forget_drops_a_finished_runs_checkpoints_and_images(registry, photo, tmp_path):
    llm = FakeLLM().enqueue(GOOD)
    agent = make_agent(registry, llm, tmp_path)
    events = list(agent.stream(photo, "How many ties?", run_id="run-1"))
    assert events[-1]["answer_object"].text == "2"
    config = {"configurable": {"thread_id": "run-1"}}
    keys = list(agent.graph.get_state(config).values["images"].values())
    assert keys and all(agent.deps.images._memory.get(k) is not None for k in keys)
    agent.forget("run-1")
    assert not agent.graph.get_state(config).values
    assert all(k not in agent.deps.images._memory for k in keys)
    assert not list(agent.deps.images.folder.glob("*.png"))  # nothing written without a checkpoint file


def test_two_agents_with_different_llms_keep_their_own_list_backend(registry, photo, tmp_path):
    program = "LIST0=LIST(query='fruits',max=2)\nFINAL_RESULT=RESULT(var=LIST0)"
    first = FakeLLM().enqueue(program, "apple\npear")
    second = FakeLLM().enqueue(program, "cherry\nplum")
    agents = [make_agent(registry, llm, tmp_path, planner="generate") for llm in (first, second)]
    answers = [agent.ask(photo, "Name two fruits") for agent in (agents[1], agents[0])]
    assert [a.text for a in answers] == ["cherry, plum", "apple, pear"]  # each agent's own LLM listed
    assert first.prompts[-1].startswith("List 2 fruits") and second.prompts[-1].startswith("List 2 fruits")
    assert registry.context.provided(("llm",)) is None  # nothing was written into the shared registry


def test_the_state_carries_the_checked_program_and_the_steps_as_plain_data(registry, photo, tmp_path, monkeypatch):
    import json

    import loupe.programs.interpreter as interpreter

    def again(*args, **kwargs):
        raise AssertionError("the interpreter parsed or checked the program again")

    monkeypatch.setattr(interpreter, "parse_program", again)
    monkeypatch.setattr(interpreter, "check", again)
    agent = make_agent(registry, FakeLLM().enqueue(GOOD), tmp_path)
    events = list(agent.stream(photo, "How many ties?", run_id="run-1"))
    answer = events[-1]["answer_object"]
    assert answer.ok and answer.text == "2"
    assert not [e for e in events if e["event"] == "live"]  # the live objects are the caller's, not events
    state = agent.graph.get_state({"configurable": {"thread_id": "run-1"}}).values
    json.dumps({"checked": state["checked"], "steps": state["steps"]})  # plain data: checkpointable as it is
    assert [s["module"] for s in state["checked"]["steps"]] == ["LOC", "COUNT", "RESULT"]
    assert [s["output"] for s in state["steps"]] == ["BOX0", "ANSWER0", "FINAL_RESULT"]
    assert list(answer.steps) == state["steps"] and answer.execution.result == 2


class CannotPaint(Replace):
    """A stand-in REPLACE whose backend cannot paint a new object (as the lite tier refuses)."""

    backend_name = staticmethod(lambda: "stand-in")

    def execute_batch(self, calls):
        return [ToolUnavailable(f"REPLACE: this tier cannot paint {c['prompt']!r}") for c in calls]


def test_an_edit_the_backend_cannot_make_is_refused_not_replanned_into_another_edit(photo, tmp_path):
    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(InstantLoc)
    registry.register(CannotPaint)
    replace = ("BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=REPLACE(image=IMAGE,object=BOX0,prompt='a bow tie')\n"
               "FINAL_RESULT=RESULT(var=IMAGE0)")
    blur = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=BLUR(image=IMAGE,object=BOX0)\nFINAL_RESULT=RESULT(var=IMAGE0)"
    llm = FakeLLM().enqueue(replace, blur)
    answer = make_agent(registry, llm, tmp_path).ask(photo, "Replace the tie with a bow tie")
    assert not answer.ok and answer.image is None and answer.llm_calls == 1   # no replan into the BLUR
    assert not [e for e in answer.events if e["event"] == "replan"]
    assert any("cannot paint 'a bow tie'" in error for error in answer.errors), answer.errors


def test_when_the_planner_has_no_other_program_the_failure_is_the_answer(registry, photo, tmp_path):
    crashing = GOOD.replace("'tie'", "'boom'")
    agent = make_agent(registry, FakeLLM().enqueue(crashing), tmp_path)   # one reply: a second call would fail
    asked = []
    agent.deps.planner("program").replan = lambda *args: asked.append(args) or None
    answer = agent.ask(photo, "How many ties?")
    assert len(asked) == 1 and answer.status == "failed" and answer.llm_calls == 1
    assert not [e for e in answer.events if e["event"] == "replan"]
    assert any("model crashed" in error for error in answer.errors), answer.errors


def test_the_replan_is_given_the_failed_steps_record_not_the_error_text(registry, photo, tmp_path):
    import json

    crashing = GOOD.replace("'tie'", "'boom'")
    agent = make_agent(registry, FakeLLM().enqueue(crashing), tmp_path)
    asked = []
    agent.deps.planner("program").replan = lambda *args: asked.append(args) or None
    list(agent.stream(photo, "How many ties?", run_id="run-2"))
    (_, failed, query, two_images), = asked
    record, = failed
    assert (record["line"], record["output"], record["module"], record["refused"]) == (1, "BOX0", "LOC", False)
    assert record["args"] == {"image": {"ref": "IMAGE"}, "object": "boom"} and "model crashed" in record["error"]
    state = agent.graph.get_state({"configurable": {"thread_id": "run-2"}}).values
    assert state["failed_steps"] == failed and json.dumps(state["failed_steps"])   # plain data in the state
    assert state["errors"] == [f"line 1 (BOX0=LOC): {record['error']}"]            # the text, for people
