"""The agent as a LangGraph StateGraph:

    plan -> [approve] -> execute -> (replan -> [approve] -> execute)? -> answer
    plan -> saycan -> answer                                   (SayCan is its own loop)

``plan`` and ``replan`` run the planner's one draft -> check -> repair loop (``Planner.plan``); the state
then carries the checked program as plain data (``CheckedProgram.to_data``), which ``execute`` hands to
the interpreter as it is: nothing is rendered and parsed again. Budgets (repairs, replans) live in the
state; images never do (the state holds ImageStore keys). An execution is summarised in the state
(``steps``: one ``StepRecord.summary`` per step; ``failed_steps``: the record of each step that failed, which
``replan`` hands to the planner; ``saycan_steps``: each SayCan choice and its scored candidates), so a run
resumed from its checkpoint keeps them; the live objects (the ``Execution`` with
its values, for the rationale, and the ``SayCanRun``) go to the caller of this run only, through the
stream, as one ``LIVE`` event that ``Agent.stream`` takes and does not pass on. Step events are streamed through
LangGraph's custom stream (``stream_mode="custom"``).

Approval (when ``approval_required``): every program that writes an image is approved before it runs,
keyed by its text, so a repaired or replanned program is asked about again (APPROVE interrupts the
graph). SayCan picks its steps one at a time inside its node, so it asks ``deps.approve`` (the Agent's
callback) before each image-writing step; with no callback it refuses them (fails closed).
"""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from loupe.agent.planning.planner import Draft, Plan
from loupe.agent.graph_deps import GraphDeps, step_event
from loupe.programs.checker import CheckedProgram
from loupe.programs.ir import value_to_json
from loupe.programs.render import render
from loupe.programs.trace import Status

PLAN, APPROVE, EXECUTE, REPLAN, SAYCAN, ANSWER = ("plan", "approve", "execute", "replan", "saycan", "answer")
LIVE = "live"  # the stream event carrying this run's Execution / SayCanRun to its caller (never checkpointed)


class AgentState(TypedDict, total=False):
    run_id: str
    query: str
    mode: str                 # program | tasks | saycan
    images: dict[str, str]    # input name -> ImageStore key
    prompt: str
    program: str              # the program as text (VisProg; the checked one once it checks)
    checked: dict             # the checked program as plain data (CheckedProgram.to_data)
    examples: list[str]
    errors: list[str]
    repairs_left: int
    replans_left: int
    llm_calls: int
    prompt_tokens: int
    from_cache: bool
    approved: bool
    status: str               # checked | ok | partial | unsupported | invalid_program | failed | rejected
    reason: str               # partial / unsupported: what of the request the answer did not use, or why not
    coverage: dict            # agent.planning.coverage.Coverage.as_dict of the planned program
    answer: str
    result_image: str         # ImageStore key of an edited image
    edits: list[str]          # modules of the checked program that write images
    approval_required: bool   # ask a person before running edits
    approved_program: str     # the program text a person approved (a different program is asked again)
    ranking: list[dict]       # the ranking planner's top candidates and their scores
    steps: list[dict]         # the execution's steps (StepRecord.summary)
    failed_steps: list[dict]  # the steps that failed or timed out: line, output, module, args, refused, error
    saycan_steps: list[dict]  # SayCan: each chosen step with its top candidates [text, llm, affordance]


def build_graph(deps: GraphDeps, checkpointer=None):
    """The compiled graph; ``deps`` holds the planners, interpreter, stores and cache."""
    graph = StateGraph(AgentState)
    graph.add_node(PLAN, lambda s: plan(deps, s))
    graph.add_node(APPROVE, lambda s: approve(deps, s))
    graph.add_node(EXECUTE, lambda s: execute(deps, s))
    graph.add_node(REPLAN, lambda s: replan(deps, s))
    graph.add_node(SAYCAN, lambda s: saycan(deps, s))
    graph.add_node(ANSWER, lambda s: answer(deps, s))
    graph.add_edge(START, PLAN)
    graph.add_conditional_edges(PLAN, after_plan, [SAYCAN, APPROVE, EXECUTE, ANSWER])
    graph.add_conditional_edges(APPROVE, was_approved, [EXECUTE, ANSWER])
    graph.add_conditional_edges(EXECUTE, did_a_step_fail, [REPLAN, ANSWER])
    graph.add_conditional_edges(REPLAN, after_plan, [APPROVE, EXECUTE, ANSWER])
    graph.add_edge(SAYCAN, ANSWER)
    graph.add_edge(ANSWER, END)
    return graph.compile(checkpointer=checkpointer)


# ---- routing, named as questions -------------------------------------------------------------

def after_plan(state: AgentState) -> str:
    if state["mode"] == "saycan":
        return SAYCAN
    if state.get("errors") or state.get("status") == "unsupported":
        return ANSWER
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

def plan(deps: GraphDeps, state: AgentState) -> dict:
    """The planner's loop (draft, check, repair); a cached program is checked but never repaired."""
    writer = get_stream_writer()
    if state["mode"] == "saycan":
        return {}
    planner = deps.planner(state["mode"])
    hit = deps.cache_lookup(state["query"], state["mode"])
    if hit is not None:
        writer({"event": "plan", "source": "cache", "program": hit})
        result = planner.plan(state["query"], _two_images(state), 0, writer, start=Draft("", hit, "", 0))
        return {**_planned(deps, state, result), "from_cache": True, "prompt": "", "examples": [],
                "program": result.program_text}
    result = planner.plan(state["query"], _two_images(state), state.get("repairs_left", 0), writer)
    return _planned(deps, state, result)


def replan(deps: GraphDeps, state: AgentState) -> dict:
    """After a failed step: the planner's next draft from the failed steps' records (``Planner.replan``:
    the ranking planner's next candidate, or a new draft quoting the errors), then the planner's loop on
    it. When the planner has none (an edit nothing else would make), the failure stands and goes to the
    answer."""
    writer = get_stream_writer()
    planner = deps.planner(state["mode"])
    failed = Draft(state.get("prompt", ""), state["program"], "", 0, tuple(state.get("examples", [])))
    new = planner.replan(failed, state.get("failed_steps", []), state["query"], _two_images(state))
    if new is None:
        return {"replans_left": 0}
    writer({"event": "replan", "program": new.text, "because": state.get("errors", [])})
    result = planner.plan(state["query"], _two_images(state), state.get("repairs_left", 0), writer, start=new)
    update = _planned(deps, state, result, calls=1 + result.llm_calls,
                      tokens=new.prompt_tokens + result.prompt_tokens)
    return {**update, "replans_left": state.get("replans_left", 0) - 1, "from_cache": False}


def _planned(deps: GraphDeps, state: AgentState, result: Plan, calls: int | None = None,
             tokens: int | None = None) -> dict:
    """The state update of a planner loop: the checked program as data (or the errors) and the costs."""
    draft = result.draft
    update: dict[str, Any] = {
        "program": result.program_text, "prompt": draft.prompt, "examples": list(draft.examples),
        "ranking": list(draft.ranking) or state.get("ranking", []),
        "repairs_left": state.get("repairs_left", 0) - result.repairs,
        "llm_calls": state.get("llm_calls", 0) + (result.llm_calls if calls is None else calls),
        "prompt_tokens": state.get("prompt_tokens", 0) + (result.prompt_tokens if tokens is None else tokens)}
    if not result.ok:
        return {**update, "errors": list(result.errors), "status": "invalid_program", "checked": {}}
    edits = [s.module for s in result.checked.program.steps if deps.registry.tool_class(s.module).writes_image]
    coverage = deps.coverage(state["query"], result.checked.program)
    if coverage.status == "unsupported":   # nothing is run: no answer of another question passes for this one
        return {**update, "errors": [], "checked": {}, "edits": [], "status": "unsupported",
                "coverage": coverage.as_dict(), "reason": coverage.reason(), "answer": ""}
    return {**update, "errors": [], "checked": result.checked.to_data(), "edits": edits, "status": "checked",
            "coverage": coverage.as_dict()}


def approve(deps: GraphDeps, state: AgentState) -> dict:
    decision = interrupt({"question": "run these image edits?", "program": state["program"],
                          "edits": state.get("edits", [])})
    approved = bool(decision) and str(decision).lower() not in ("no", "n", "false", "reject")
    if approved:
        return {"approved": True, "approved_program": state["program"]}
    return {"approved": False, "status": "rejected", "answer": "the edit was not approved"}


def execute(deps: GraphDeps, state: AgentState) -> dict:
    writer = get_stream_writer()
    inputs = {name: deps.images.get(key) for name, key in state["images"].items()}
    execution = deps.execute(state["run_id"], CheckedProgram.from_data(state["checked"]), inputs,
                                on_record=lambda record: writer(step_event(record)))
    writer({"event": LIVE, "execution": execution})
    update: dict[str, Any] = {"steps": execution.steps(), "failed_steps": failed_steps(execution)}
    if not execution.ok:
        if _edit_refused(deps, execution):
            update["replans_left"] = 0   # another program would do some other edit: the refusal is the answer
        return {**update, "status": "failed", "errors": execution.errors or ["a step failed"]}
    return {**update, "errors": [], **_result(deps, execution, state["query"], state.get("coverage"))}


def failed_steps(execution) -> list[dict]:
    """The record of each step that failed or timed out, as plain data: its ``line``, ``output``, ``module``,
    ``args`` (as ``loupe.programs.ir.program_to_json`` writes them), whether its backend ``refused`` and its
    ``error`` (the lines of ``Execution.errors``, kept apart)."""
    failed = []
    for record in execution.records:
        if record.status not in (Status.FAILED, Status.TIMEOUT):
            continue
        step = execution.program.step_defining(record.output)
        args = {a.name: value_to_json(a.value) for a in step.args} if step is not None else {}
        failed.append({"line": record.line, "output": record.output, "module": record.module, "args": args,
                       "refused": record.refused, "error": record.error})
    return failed


def _edit_refused(deps: GraphDeps, execution) -> bool:
    """Whether an image-writing step failed because its backend cannot make that edit (the lite tier asked
    to paint a new object): the user is told so, rather than given a replanned program's other edit."""
    return any(r.refused and deps.registry.tool_class(r.module).writes_image for r in execution.records)


def saycan(deps: GraphDeps, state: AgentState) -> dict:
    writer = get_stream_writer()
    inputs = {name: deps.images.get(key) for name, key in state["images"].items()}
    approve = _saycan_approver(deps, writer) if state.get("approval_required") else None
    run = deps.saycan(state["query"], inputs, approve)
    chosen = [{"chosen": step.chosen,
               "candidates": [[c.text, round(c.llm, 4), round(c.affordance, 3)]
                              for c in sorted(step.candidates, key=lambda c: -c.combined)[:20]]}
              for step in run.steps]
    for step in chosen:
        writer({"event": "saycan", **step})
    writer({"event": LIVE, "execution": run.execution, "saycan": run})
    update: dict[str, Any] = {"program": render(run.execution.program), "llm_calls": run.llm_calls,
                              "prompt_tokens": run.prompt_tokens, "steps": run.execution.steps(),
                              "saycan_steps": chosen}
    if run.rejected:
        return {**update, "status": "rejected", "answer": "the edit was not approved"}
    if run.execution.result is None:
        return {**update, "status": "failed", "errors": ["SayCan reached no RESULT within its step bound"]}
    coverage = deps.coverage(state["query"], run.execution.program)
    if coverage.status == "unsupported":
        return {**update, "status": "unsupported", "coverage": coverage.as_dict(), "reason": coverage.reason(),
                "answer": ""}
    return {**update, **_result(deps, run.execution, state["query"], coverage.as_dict())}


def _result(deps: GraphDeps, execution, query: str, coverage: dict | None) -> dict:
    """A finished run's answer: text, or an edited image kept in the image store (the state holds its key);
    ``partial`` with its reason when the program left out words that could change the answer, when a
    choice question's answer is none of its choices, or when it is empty (an answer of nothing is no answer)."""
    status, reason = (coverage or {}).get("status", "ok"), (coverage or {}).get("reason", "")
    if execution.image is not None:
        return {"status": status, "reason": reason, "result_image": deps.images.put(execution.image), "answer": ""}
    text = execution.text
    outside = deps.outside_choices(query, text)
    doubt = deps.doubts(execution)
    empty = "" if str(text).strip() else "the program found nothing to answer with (no text was read where it looked)"
    if outside or doubt or empty:
        status, reason = "partial", "; ".join(filter(None, [reason, outside, doubt, empty]))
    return {"status": status, "reason": reason, "answer": text}


def _saycan_approver(deps: GraphDeps, writer):
    """SayCan's per-step approval: the deps's callback, its decision streamed; none refuses (fails closed)."""
    def approve(program: str, edits: list[str]) -> bool:
        decision = bool(deps.approve(program, edits)) if deps.approve is not None else False
        writer({"event": "approval", "approved": decision, "edits": list(edits)})
        return decision

    return approve


def answer(deps: GraphDeps, state: AgentState) -> dict:
    if state.get("status") == "ok" and state["mode"] == "program" and not state.get("from_cache"):
        deps.cache_store(state["query"], state["program"])   # never a partial or refused one
    get_stream_writer()({"event": "answer", "status": state.get("status"), "answer": state.get("answer", ""),
                         "reason": state.get("reason", "")})
    return {}


def _two_images(state: AgentState) -> bool:
    return "RIGHT" in state["images"]

