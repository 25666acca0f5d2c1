"""Planners: turn a question or instruction into a checked program with one LLM call (plus a bounded
repair call that quotes the checker's messages when the first answer does not check).

``ProgramPlanner`` asks for VisProg text (constrained decoding for local models); ``TaskPlanner``
asks for a HuggingGPT task list. ``plan`` is the one draft -> check -> repair loop (the agent graph,
batch and the evaluation's baseline all use it) and returns a ``Plan`` holding the checked program.
With the embedded model the task planner does not generate JSON: it takes the program planner's
checked plan and renders it as a task list (one IR, two surfaces, ``loupe.programs.task_render``); with
other models it generates the list, and constrained decoding bounds its length by the question
(``loupe.agent.planning.json_constraints``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import re
from typing import Mapping, Sequence

from loupe.agent.planning import prompts
from loupe.agent.planning.constraints import ProgramPrefix, query_phrases
from loupe.programs.checker import CheckedProgram, check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Program
from loupe.programs.parser import parse_program
from loupe.programs.render import render
from loupe.programs.tasks import parse_tasks
from loupe.programs.values import ValueType

_FENCE = re.compile(r"^```[a-zA-Z]*\s*$")


def input_types(two_images: bool) -> dict[str, ValueType]:
    if two_images:
        return {"LEFT": ValueType.IMAGE, "RIGHT": ValueType.IMAGE}
    return {"IMAGE": ValueType.IMAGE}


@dataclass(frozen=True)
class Draft:
    """One planner call: the prompt it answered, the program text taken from the reply, the cost."""

    prompt: str
    text: str
    reply: str
    prompt_tokens: int
    examples: tuple[str, ...] = ()
    ranking: tuple[dict, ...] = ()   # the ranking planner's top candidates with their scores
    checked: CheckedProgram | None = None  # already checked (the embedded task planner's plan)

    @property
    def llm_calls(self) -> int:
        """A first draft costs one LLM call unless the ranking planner chose it without scoring."""
        return 1 if self.prompt_tokens or not self.ranking else 0


@dataclass(frozen=True)
class Plan:
    """What the one draft -> check -> repair loop (``plan``) gives: the last draft, its checked program
    (None when no attempt checked: ``errors`` says why), the LLM calls and prompt tokens spent, and how
    many repairs were used."""

    draft: Draft
    checked: CheckedProgram | None
    errors: tuple[str, ...] = ()
    llm_calls: int = 0
    prompt_tokens: int = 0
    repairs: int = 0

    @property
    def ok(self) -> bool:
        return self.checked is not None

    @property
    def program_text(self) -> str:
        """The checked program as VisProg text; the last draft's text when none checked."""
        return render(self.checked.program) if self.checked else self.draft.text

    @property
    def error(self) -> str:
        return "" if self.ok else "the planner's program did not check: " + "; ".join(self.errors)


class _Planner:
    mode = ""

    def __init__(self, llm, registry, retriever, examples_k: int = 6, max_repairs: int = 1,
                 max_tokens: int = 320):
        self.llm, self.registry, self.retriever = llm, registry, retriever
        self.examples_k, self.max_repairs, self.max_tokens = examples_k, max_repairs, max_tokens

    def draft(self, query: str, two_images: bool = False) -> Draft:
        """The first LLM call: tool cards + the retrieved examples + the query."""
        examples = self.retriever.top(query, k=self.examples_k)
        return self._ask(self.prompt(examples, query, two_images), query, two_images,
                         tuple(e.id for e in examples))

    def redraft(self, draft: Draft, errors, query: str, two_images: bool = False) -> Draft:
        """A repair (or replan) call that quotes what was wrong with the last program."""
        return self._ask(prompts.repair_prompt(draft.prompt, draft.text, list(errors)), query, two_images,
                         draft.examples)

    def check(self, text: str, two_images: bool = False) -> CheckedProgram:
        """Parse and check a drafted program; raises ProgramError."""
        return check(self.parse(text), self.registry, input_types(two_images))

    def plan(self, query: str, two_images: bool = False, repairs: int | None = None, on_event=None,
             start: Draft | None = None) -> Plan:
        """The one repair loop: draft (or take ``start``, a draft made elsewhere: a cached program, a
        replan), check, and repair at most ``repairs`` times (default ``max_repairs``) quoting the
        checker's messages. ``on_event(dict)`` gets the ``plan``, ``check`` and ``repair`` events."""
        emit = on_event or (lambda event: None)
        repairs = self.max_repairs if repairs is None else repairs
        draft = start or self.draft(query, two_images)
        calls, tokens, used = (0, 0, 0) if start else (draft.llm_calls, draft.prompt_tokens, 0)
        if start is None:
            emit({"event": "plan", "source": "rank" if draft.ranking and not draft.reply else "llm",
                  "program": draft.text, **({"ranking": list(draft.ranking)} if draft.ranking else {})})
        while True:
            try:
                checked = draft.checked or self.check(draft.text, two_images)
            except ProgramError as error:
                errors = tuple(error.lines())
                emit({"event": "check", "ok": False, "errors": list(errors)})
                if used >= repairs:
                    return Plan(draft, None, errors, calls, tokens, used)
                draft = self.again(draft, errors, query, two_images)
                calls, tokens, used = calls + 1, tokens + draft.prompt_tokens, used + 1
                emit({"event": "repair", "program": draft.text, "because": list(errors)})
                continue
            emit({"event": "check", "ok": True, "program": render(checked.program)})
            return Plan(draft, checked, (), calls, tokens, used)

    def again(self, draft: Draft, errors, query: str, two_images: bool = False) -> Draft:
        """A repair or replan: ``redraft`` quoting ``errors``; a draft with no prompt (a cached program)
        is planned afresh."""
        if not draft.prompt:
            return self.draft(query, two_images)
        return self.redraft(draft, errors, query, two_images)

    def replan(self, draft: Draft, failed: Sequence[Mapping], query: str, two_images: bool = False) -> Draft | None:
        """After a step of ``draft``'s program failed: the next draft to run, or None when no other program
        should run instead (the failure is the answer). ``failed``: the records of the steps that failed
        (``{"line", "output", "module", "args", "refused", "error"}``, the graph's ``failed_steps``). Here:
        ``again``, quoting them as error lines (``failure_messages``)."""
        return self.again(draft, failure_messages(failed), query, two_images)

    def _ask(self, prompt: str, query: str, two_images: bool, examples: tuple[str, ...]) -> Draft:
        completion = self.llm.complete(prompt, system=self.system, max_tokens=self.token_budget(query),
                                       temperature=0.0,
                                       stop=["\nQuestion:", "\nRequest:"], raw=True,
                                       prefix_ok=self.constraint(query, two_images))
        return Draft(prompt, self.extract(completion.text), completion.text, completion.prompt_tokens, examples)

    def token_budget(self, query: str) -> int:
        return self.max_tokens

    # subclasses: system, prompt(), extract(), parse(), constraint()


class ProgramPlanner(_Planner):
    mode = "program"
    system = prompts.PROGRAM_SYSTEM

    def prompt(self, examples, query, two_images):
        return prompts.program_prompt(self.registry, examples, query, two_images)

    def constraint(self, query: str, two_images: bool):
        if not getattr(self.llm, "supports_constraints", False):
            return None
        phrases = query_phrases(query)
        locate = self.registry.tool("LOC") if "LOC" in self.registry else None
        findable = [p for p in phrases if locate is None or locate.affordance({"object": p}) > 0]
        objects = (findable or phrases) + ["TOP", "BOTTOM", "LEFT", "RIGHT", "face", "everything"]
        # object names come from the query, and only those the installed detector can find (SayCan's
        # affordance, applied while decoding); when it can find none, any phrase (the step will say why)
        return ProgramPrefix(self.registry, input_types(two_images), {"object": objects, "query": objects})

    @staticmethod
    def extract(text: str) -> str:
        """The program lines of a reply: fences and chatter dropped, up to the RESULT step."""
        lines = []
        for line in text.strip().splitlines():
            stripped = line.strip()
            if _FENCE.match(stripped) or stripped.lower().startswith(("program:", "question:")):
                if lines and stripped.lower().startswith("question:"):
                    break
                continue
            if "=" in stripped and "(" in stripped:
                lines.append(stripped)
                if re.match(r"^\w+\s*=\s*RESULT\s*\(", stripped):
                    break
        return "\n".join(lines) if lines else text.strip()

    @staticmethod
    def parse(text: str) -> Program:
        return parse_program(text)


class TaskPlanner(_Planner):
    """Give it a retriever over the library examples that have a task list, and the program planner
    (used instead of JSON generation with the embedded model: see the module docstring)."""

    mode = "tasks"
    system = prompts.TASKS_SYSTEM
    TOKENS_PER_TASK = 48  # a task object is ~25-40 tokens: the list's bound, not this budget, ends it

    def __init__(self, llm, registry, retriever, examples_k: int = 6, max_repairs: int = 1,
                 max_tokens: int = 320, program_planner: ProgramPlanner | None = None):
        super().__init__(llm, registry, retriever, examples_k, max_repairs, max_tokens)
        self.program_planner = program_planner

    def via_program_planner(self) -> bool:
        """The embedded model plans through the program planner (its output rendered as tasks)."""
        return self.program_planner is not None and getattr(self.llm, "provider", "") == "local"

    def draft(self, query: str, two_images: bool = False) -> Draft:
        """With the embedded model: the program planner's checked plan as a task list; when it finds none,
        or with other models, one JSON generation."""
        if self.via_program_planner():
            rendered = self._rendered(self.program_planner.plan(query, two_images))
            if rendered is not None:
                return rendered
        return super().draft(query, two_images)

    def replan(self, draft: Draft, failed: Sequence[Mapping], query: str, two_images: bool = False) -> Draft | None:
        """With the embedded model, a plan of the program planner is replanned by it, exactly as in program
        mode (the ranking planner's next candidate: one IR, two surfaces), and rendered as a task list;
        a generated task list is repaired as JSON."""
        if not self.via_program_planner() or prompts.is_tasks_prompt(draft.prompt):
            return super().replan(draft, failed, query, two_images)
        program = replace(draft, text=draft.reply if draft.text.lstrip().startswith("[") else draft.text)
        new = self.program_planner.replan(program, failed, query, two_images)
        if new is None:
            return None
        plan = self.program_planner.plan(query, two_images, start=new)
        spent = replace(plan, prompt_tokens=new.prompt_tokens + plan.prompt_tokens)
        return self._rendered(spent) or super().draft(query, two_images)

    def _rendered(self, plan: Plan) -> Draft | None:
        """The program planner's checked ``plan`` as a task-list draft: ``text`` the task list, ``reply``
        the program, ``prompt`` and ``ranking`` the program planner's (so a replan goes through it)."""
        if not plan.ok:
            return None
        from loupe.programs.task_render import program_to_tasks_json

        return Draft(plan.draft.prompt, program_to_tasks_json(plan.checked.program), plan.program_text,
                     plan.prompt_tokens, plan.draft.examples, plan.draft.ranking, checked=plan.checked)

    def prompt(self, examples, query, two_images):
        return prompts.tasks_prompt(self.registry, examples, query)

    def token_budget(self, query: str) -> int:
        from loupe.agent.planning.json_constraints import task_bound

        return max(self.max_tokens, self.TOKENS_PER_TASK * task_bound(query))

    def constraint(self, query, two_images):
        if not getattr(self.llm, "supports_constraints", False):
            return None
        from loupe.agent.planning.json_constraints import TaskListPrefix, task_bound
        from loupe.programs.tasks import TASK_ALIASES

        return TaskListPrefix(list(TASK_ALIASES) + self.registry.names(), max_tasks=task_bound(query))

    @staticmethod
    def extract(text: str) -> str:
        """The JSON list in a reply (the outermost [...])."""
        start, end = text.find("["), text.rfind("]")
        return text[start:end + 1] if 0 <= start < end else text.strip()

    def parse(self, text: str) -> Program:
        program = parse_tasks(text, self.registry.names())
        return _files_as_inputs(program)


def _files_as_inputs(program: Program) -> Program:
    """A planned task list names a placeholder file; the user's image is the input IMAGE."""
    return Program(program.steps, program.source, ())


def failure_messages(failed: Sequence[Mapping]) -> list[str]:
    """The failed steps' records as the error lines a repair prompt quotes (``Execution.errors``'s
    ``line N (OUT=MODULE): message``); ``["a step failed"]`` when there is none."""
    return [f"line {f.get('line', 0)} ({f.get('output', '')}={f.get('module', '')}): {f.get('error', '')}"
            for f in failed] or ["a step failed"]


PLANNERS = ("auto", "rank", "generate")


def ranks_by_default(llm) -> bool:
    """``--planner auto``: rank with the embedded local model; generate with remote models, LangChain
    chat models and the evaluation oracle (which answers the generation prompt)."""
    return getattr(llm, "provider", None) == "local"


def check_planner_kind(kind: str) -> None:
    if kind not in PLANNERS:
        raise ProgramError.at(f"unknown planner {kind!r}", suggestion="choose auto, rank or generate")


def make_planners(llm, registry, kind: str = "auto", cache=None, library=None, examples_k: int = 6) -> dict:
    """The planners of each mode (``{"program": ..., "tasks": ...}``) over the curated library (or
    ``library``): what batch and the evaluation need, without an agent's stores. ``kind``: auto | rank |
    generate; ``cache``: the program cache whose learned programs the ranking planner also fills."""
    from loupe.agent.planning.retrieval import ExampleRetriever
    from loupe.programs.examples_library import load_library

    check_planner_kind(kind)
    library = load_library() if library is None else library
    retriever = ExampleRetriever(library)
    if kind == "rank" or (kind == "auto" and ranks_by_default(llm)):
        from loupe.agent.planning.rank_planner import RankPlanner

        program_planner: ProgramPlanner = RankPlanner(llm, registry, retriever, examples_k, cache=cache)
    else:
        program_planner = ProgramPlanner(llm, registry, retriever, examples_k)
    tasks = TaskPlanner(llm, registry, ExampleRetriever([e for e in library if e.tasks]), examples_k=4,
                        program_planner=program_planner)
    return {"program": program_planner, "tasks": tasks}
