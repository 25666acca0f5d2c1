"""The agent as a LangGraph StateGraph:

    plan -> check -> (repair -> check)* -> [approve] -> execute -> (replan -> check ...)? -> answer
    plan -> saycan -> answer                                   (SayCan is its own loop)

Budgets (repairs, replans) live in the state; images never do (the state holds ImageStore keys), and
neither do executions (kept by the ``Runtime`` under the run id). Step events are streamed through
LangGraph's custom stream (``stream_mode="custom"``).

Approval (when ``approval_required``): every program that writes an image is approved before it runs,
keyed by its text, so a repaired or replanned program is asked about again (APPROVE interrupts the
graph). SayCan picks its steps one at a time inside its node, so it asks ``runtime.approve`` (the Agent's
callback) before each image-writing step; with no callback it refuses them (fails closed).
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agent.planner import Draft
from agent.runtime import Runtime, step_event
from programs.errors import ProgramError
from programs.render import render
from programs.values import Image, as_text

PLAN, CHECK, REPAIR, APPROVE, EXECUTE, REPLAN, SAYCAN, ANSWER = (
    "plan", "check", "repair", "approve", "execute", "replan", "saycan", "answer")


class AgentState(TypedDict, total=False):
    run_id: str
    query: str
    mode: str                 # program | tasks | saycan
    images: dict[str, str]    # input name -> ImageStore key
    prompt: str
    program: str
    examples: list[str]
    errors: list[str]
    repairs_left: int
    replans_left: int
    llm_calls: int
    prompt_tokens: int
    from_cache: bool
    approved: bool
    status: str               # checked | ok | invalid_program | failed | rejected
    answer: str
    result_image: str         # ImageStore key of an edited image
    edits: list[str]          # modules of the checked program that write images
    approval_required: bool   # ask a person before running edits
    approved_program: str     # the program text a person approved (a different program is asked again)
    ranking: list[dict]       # the ranking planner's top candidates and their scores


def build_graph(runtime: Runtime, checkpointer=None):
    """The compiled graph; ``runtime`` holds the planners, interpreter, stores and cache."""
    graph = StateGraph(AgentState)
    graph.add_node(PLAN, lambda s: plan(runtime, s))
    graph.add_node(CHECK, lambda s: check_program(runtime, s))
    graph.add_node(REPAIR, lambda s: redraft(runtime, s, "repairs_left"))
    graph.add_node(APPROVE, lambda s: approve(runtime, s))
    graph.add_node(EXECUTE, lambda s: execute(runtime, s))
    graph.add_node(REPLAN, lambda s: redraft(runtime, s, "replans_left"))
    graph.add_node(SAYCAN, lambda s: saycan(runtime, s))
    graph.add_node(ANSWER, lambda s: answer(runtime, s))
    graph.add_edge(START, PLAN)
    graph.add_conditional_edges(PLAN, is_saycan, [SAYCAN, CHECK])
    graph.add_conditional_edges(CHECK, after_check, [REPAIR, APPROVE, EXECUTE, ANSWER])
    graph.add_edge(REPAIR, CHECK)
    graph.add_conditional_edges(APPROVE, was_approved, [EXECUTE, ANSWER])
    graph.add_conditional_edges(EXECUTE, did_a_step_fail, [REPLAN, ANSWER])
    graph.add_edge(REPLAN, CHECK)
    graph.add_edge(SAYCAN, ANSWER)
    graph.add_edge(ANSWER, END)
    return graph.compile(checkpointer=checkpointer)


# ---- routing, named as questions -------------------------------------------------------------

def is_saycan(state: AgentState) -> str:
    return SAYCAN if state["mode"] == "saycan" else CHECK


def after_check(state: AgentState) -> str:
    if state.get("errors"):
        return REPAIR if state.get("repairs_left", 0) > 0 and not state.get("from_cache") else ANSWER
    return APPROVE if _needs_approval(state) else EXECUTE


def was_approved(state: AgentState) -> str:
    return EXECUTE if state.get("approved", True) else ANSWER


def did_a_step_fail(state: AgentState) -> str:
    failed = state.get("status") == "failed" and not state.get("from_cache")
    return REPLAN if failed and state.get("replans_left", 0) > 0 else ANSWER


def _needs_approval(state: AgentState) -> bool:
    """Edits to run that a person has not approved in this exact program."""
    return (bool(state.get("approval_required")) and bool(state.get("edits"))
            and state.get("approved_program") != state.get("program"))


# ---- nodes -----------------------------------------------------------------------------------

def plan(runtime: Runtime, state: AgentState) -> dict:
    writer = get_stream_writer()
    if state["mode"] == "saycan":
        return {}
    hit = runtime.cache_lookup(state["query"], state["mode"])
    if hit is not None:
        writer({"event": "plan", "source": "cache", "program": hit})
        return {"program": hit, "from_cache": True, "prompt": "", "examples": []}
    draft = runtime.planner(state["mode"]).draft(state["query"], _two_images(state))
    writer({"event": "plan", "source": "rank" if draft.ranking and not draft.reply else "llm",
            "program": draft.text, **({"ranking": list(draft.ranking)} if draft.ranking else {})})
    return {"program": draft.text, "prompt": draft.prompt, "examples": list(draft.examples),
            "ranking": list(draft.ranking),
            "llm_calls": state.get("llm_calls", 0) + (1 if draft.prompt_tokens or not draft.ranking else 0),
            "prompt_tokens": state.get("prompt_tokens", 0) + draft.prompt_tokens}


def check_program(runtime: Runtime, state: AgentState) -> dict:
    try:
        checked = runtime.planner(state["mode"]).check(state["program"], _two_images(state))
    except ProgramError as error:
        errors = error.lines()
        get_stream_writer()({"event": "check", "ok": False, "errors": errors})
        return {"errors": errors, "status": "invalid_program"}
    edits = [s.module for s in checked.program.steps if runtime.registry.tool_class(s.module).writes_image]
    get_stream_writer()({"event": "check", "ok": True, "program": render(checked.program)})
    return {"errors": [], "program": render(checked.program), "edits": edits, "status": "checked"}


def redraft(runtime: Runtime, state: AgentState, budget: str) -> dict:
    planner = runtime.planner(state["mode"])
    draft = Draft(state.get("prompt", ""), state["program"], "", 0, tuple(state.get("examples", [])))
    if not draft.prompt:  # a cached program failed: plan afresh
        new = planner.draft(state["query"], _two_images(state))
    else:
        new = planner.redraft(draft, state.get("errors", []), state["query"], _two_images(state))
    get_stream_writer()({"event": budget.split("s_")[0], "program": new.text, "because": state.get("errors", [])})
    return {"program": new.text, "prompt": new.prompt, budget: state.get(budget, 0) - 1, "from_cache": False,
            "llm_calls": state.get("llm_calls", 0) + 1,
            "prompt_tokens": state.get("prompt_tokens", 0) + new.prompt_tokens}


def approve(runtime: Runtime, state: AgentState) -> dict:
    decision = interrupt({"question": "run these image edits?", "program": state["program"],
                          "edits": state.get("edits", [])})
    approved = bool(decision) and str(decision).lower() not in ("no", "n", "false", "reject")
    if approved:
        return {"approved": True, "approved_program": state["program"]}
    return {"approved": False, "status": "rejected", "answer": "the edit was not approved"}


def execute(runtime: Runtime, state: AgentState) -> dict:
    writer = get_stream_writer()
    inputs = {name: runtime.images.get(key) for name, key in state["images"].items()}
    execution = runtime.execute(state["run_id"], state["program"], inputs,
                                on_record=lambda record: writer(step_event(record)))
    if not execution.ok:
        return {"status": "failed", "errors": execution.errors or ["a step failed"]}
    update: dict[str, Any] = {"status": "ok", "errors": []}
    if isinstance(execution.result, Image):
        update["result_image"] = runtime.images.put(execution.result)
        update["answer"] = ""
    else:
        update["answer"] = as_text(execution.result)
    return update


def saycan(runtime: Runtime, state: AgentState) -> dict:
    writer = get_stream_writer()
    inputs = {name: runtime.images.get(key) for name, key in state["images"].items()}
    approve = _saycan_approver(runtime, writer) if state.get("approval_required") else None
    run = runtime.saycan(state["run_id"], state["query"], inputs, approve)
    for step in run.steps:
        writer({"event": "saycan", "chosen": step.chosen,
                "candidates": [[c.text, round(c.llm, 4), round(c.affordance, 3)]
                               for c in sorted(step.candidates, key=lambda c: -c.combined)[:20]]})
    update: dict[str, Any] = {"program": render(run.execution.program), "llm_calls": run.llm_calls,
                              "prompt_tokens": run.prompt_tokens}
    result = run.execution.result
    if run.rejected:
        return {**update, "status": "rejected", "answer": "the edit was not approved"}
    if result is None:
        return {**update, "status": "failed", "errors": ["SayCan reached no RESULT within its step bound"]}
    if isinstance(result, Image):
        return {**update, "status": "ok", "result_image": runtime.images.put(result), "answer": ""}
    return {**update, "status": "ok", "answer": as_text(result)}


def _saycan_approver(runtime: Runtime, writer):
    """SayCan's per-step approval: the runtime's callback, its decision streamed; none refuses (fails closed)."""
    def approve(program: str, edits: list[str]) -> bool:
        decision = bool(runtime.approve(program, edits)) if runtime.approve is not None else False
        writer({"event": "approval", "approved": decision, "edits": list(edits)})
        return decision

    return approve


def answer(runtime: Runtime, state: AgentState) -> dict:
    if state.get("status") == "ok" and state["mode"] == "program" and not state.get("from_cache"):
        runtime.cache_store(state["query"], state["program"])
    get_stream_writer()({"event": "answer", "status": state.get("status"), "answer": state.get("answer", "")})
    return {}


def _two_images(state: AgentState) -> bool:
    return "RIGHT" in state["images"]

