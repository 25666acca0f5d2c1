"""The agent graph with a scripted LLM and stand-in tools: every edge (repair, replan, approval, cache,
SayCan) is driven by a test."""


from fake_llm import FakeLLM
from fakes import InstantLoc
from programs.values import Image

GOOD = """BOX0=LOC(image=IMAGE,object='tie')
ANSWER0=COUNT(box=BOX0)
FINAL_RESULT=RESULT(var=ANSWER0)"""


def make_agent(registry, llm, tmp_path, **kwargs):
    from agent.api import Agent

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
    wanted = ["BOX0=LOC(image=IMAGE,object='ties')", "ANSWER0=COUNT(box=BOX0)", "FINAL_RESULT=RESULT(var=ANSWER0)"]

    def scorer(prompt, continuation):
        step = continuation.strip()
        so_far = prompt.rsplit("Question: how many ties", 1)[1]  # after the few-shot examples
        done = sum(line in so_far for line in wanted)
        return 0.0 if done < len(wanted) and step == wanted[done] else -20.0

    llm = FakeLLM(scorer=scorer)
    InstantLoc.count_for = {**InstantLoc.count_for, "ties": 3}
    answer = make_agent(registry, llm, tmp_path, mode="saycan").ask(photo, "how many ties")
    assert answer.ok and answer.text == "3"
    run = answer.saycan
    assert [s.chosen for s in run.steps] == wanted
    first = run.steps[0].candidates
    assert len(first) > 5 and all(0 <= c.llm <= 1 and 0 <= c.affordance <= 1 for c in first)
    assert max(first, key=lambda c: c.combined).text == wanted[0]
    assert answer.llm_calls == 3


def test_graph_shape_is_pinned_by_its_mermaid_drawing(registry, tmp_path):
    """The graph's nodes and edges as drawn by LangGraph; update the .mmd file when the shape changes."""
    from pathlib import Path

    drawing = make_agent(registry, FakeLLM(), tmp_path).graph.get_graph().draw_mermaid()
    assert drawing == (Path(__file__).parent / "data" / "agent_graph.mmd").read_text()


def test_saycan_rationale_lists_every_candidates_scores(registry, photo, tmp_path):
    from programs.rationale import render_html

    llm = FakeLLM(scorer=lambda prompt, c: -len(c))  # prefers the shortest step: RESULT comes late
    answer = make_agent(registry, llm, tmp_path, mode="saycan").ask(photo, "how many ties")
    page = render_html(answer.execution, saycan=answer.saycan)
    first = answer.saycan.steps[0]
    assert "SayCan choices" in page and "LLM x affordance" in page
    assert all(c.text.replace("'", "&#x27;") in page for c in first.candidates)
