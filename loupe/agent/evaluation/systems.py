"""Running one benchmark item: Loupe (the agent) or the VisProg-style baseline, both returning a
JSON-able result row. ``EvalSpec`` is what a worker needs to build its runner; it is picklable, so the
Ray engine ships it to its actors and each builds (and loads its models) once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import threading
import time
from typing import Any

from loupe.agent.evaluation.bench import Item, file_stem
from loupe.agent.evaluation.edits import check_edit
from loupe.agent.evaluation.matching import answer_matches
from loupe.programs.images import confined_path, load_image
from loupe.programs.trace import Execution
from loupe.programs.values import Image
from loupe.tools.settings import Settings

SYSTEMS = ("loupe", "visprog")


@dataclass(frozen=True)
class EvalSpec:
    """How to build a runner. ``llm``: a spec for ``make_llm`` ("local", "openai:MODEL", a URL),
    ``oracle:FILE`` (see ``loupe.agent.evaluation.oracle``) or a model object. ``registry``: a
    ``"module:function"`` returning a tool registry ("" = the default registry). ``out_dir``: the run's
    output folder (None: edited images are not written); edited images go to ``out_dir/images_subdir``, and a
    row's ``output_image`` is that path relative to ``out_dir``. Image names are confined to ``images_dir``.
    ``settings``: what the entry point read (``run_eval``'s caller); None: the defaults (nothing read)."""

    images_dir: str
    llm: Any = "local"
    mode: str = "program"
    registry: str = ""
    use_cache: bool = False
    system: str = "loupe"
    out_dir: str | None = None
    images_subdir: str = "images"
    planner: str = "auto"
    settings: Settings | None = None

    def build(self):
        return (LoupeRunner if self.system == "loupe" else VisProgRunner)(self)


def make_registry(path: str, settings: Settings | None):
    """The registry of ``"module:function"`` ``path``, or ("") the default registry under ``settings``
    (None: the defaults)."""
    from loupe.tools.backends import resolve
    from loupe.tools.registry import default_registry

    return resolve(path)() if path else default_registry(settings if settings is not None else Settings())


def make_model(llm, settings: Settings | None):
    """The one LLM factory (``oracle:FILE`` included) under ``settings`` (None: the defaults)."""
    from loupe.agent.llm import make_llm

    return make_llm(llm, settings=settings if settings is not None else Settings())


def warm_up(registry) -> None:
    """Load every model backend that can run here, so that timings do not include loading."""
    from loupe.programs.errors import ToolUnavailable
    from loupe.tools.model_tool import ModelTool

    for name in registry.names():
        tool = registry.tool(name)
        if isinstance(tool, ModelTool):
            try:
                tool.backend()
            except ToolUnavailable:
                pass


class _Serialized:
    """Forwards to an LLM, one call at a time (items may run on several threads)."""

    def __init__(self, llm):
        self._llm, self._lock = llm, threading.Lock()

    def complete(self, *args, **kwargs):
        with self._lock:
            return self._llm.complete(*args, **kwargs)

    def score(self, *args, **kwargs):
        with self._lock:
            return self._llm.score(*args, **kwargs)

    def score_split(self, *args, **kwargs):
        with self._lock:
            return self._llm.score_split(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._llm, name)


class _Runner:
    def __init__(self, spec: EvalSpec):
        self.spec = spec
        self.registry = make_registry(spec.registry, spec.settings)
        self.llm = _Serialized(make_model(spec.llm, spec.settings))
        self._images: dict[str, Image] = {}
        self._lock = threading.Lock()
        warm_up(self.registry)

    def image(self, name: str) -> Image:
        with self._lock:
            if name not in self._images:
                self._images[name] = load_image(confined_path(self.spec.images_dir, name))
            return self._images[name]

    def __call__(self, item: Item) -> dict:
        images = [self.image(name) for name in item.images]
        started = time.perf_counter()
        try:
            outcome = self.answer(item, images)
        except Exception as error:  # one broken item must not end the run: it is recorded as failed
            outcome = Outcome(status="error", errors=(f"{type(error).__name__}: {error}",))
        latency = time.perf_counter() - started
        return self.row(item, images, outcome, latency)

    def row(self, item: Item, images: list[Image], outcome: "Outcome", latency: float) -> dict:
        execution = outcome.execution
        modules = [r.module for r in execution.records if r.ok] if execution else []
        row = {"id": item.id, "kind": item.kind, "needs": list(item.needs), "query": item.query,
               "system": self.spec.system, "status": outcome.status, "program": outcome.program,
               "valid_program": outcome.valid, "answer": outcome.text, "correct": False, "check": "",
               "llm_calls": outcome.llm_calls, "prompt_tokens": outcome.prompt_tokens,
               "latency_s": round(latency, 4), "steps": execution.steps() if execution else [],
               "errors": list(outcome.errors), "reason": outcome.reason, "output_image": None}
        if item.kind == "answer":
            row["correct"] = outcome.status in ("ok", "partial") and answer_matches(outcome.text, item.answers)
            return row
        after = outcome.image.pixels if isinstance(outcome.image, Image) and outcome.status in ("ok", "partial") else None
        check = check_edit(images[0].pixels, after, modules, item.expect_tools, item.regions)
        row["correct"], row["check"], row["check_measures"] = check.ok, check.reason, check.measures
        if after is not None and self.spec.out_dir:
            relative = f"{self.spec.images_subdir}/{file_stem(item.id)}.png"
            (Path(self.spec.out_dir) / relative).parent.mkdir(parents=True, exist_ok=True)
            outcome.image.to_pil().save(Path(self.spec.out_dir) / relative)
            row["output_image"] = relative
        return row


@dataclass(frozen=True)
class Outcome:
    status: str
    text: str = ""
    image: Image | None = None
    program: str = ""
    valid: bool = False
    llm_calls: int = 0
    prompt_tokens: int = 0
    errors: tuple[str, ...] = ()
    execution: Execution | None = None
    reason: str = ""   # partial / unsupported: why (agent.api.Answer.reason)


class LoupeRunner(_Runner):
    """Items through ``Agent.ask``: planning, checking, repair, concurrent and batched execution."""

    def __init__(self, spec: EvalSpec):
        super().__init__(spec)
        from loupe.agent.api import Agent

        # a benchmark never learns into the user's program cache: its own cache lives in the output folder
        cache_path = Path(spec.out_dir) / "program_cache.sqlite" if spec.out_dir else None
        if spec.use_cache and cache_path is None:
            import tempfile

            cache_path = Path(tempfile.mkdtemp(prefix="loupe-eval-")) / "program_cache.sqlite"
        self.agent = Agent(llm=self.llm, mode=spec.mode, registry=self.registry, use_cache=spec.use_cache,
                           cache_path=cache_path, planner=spec.planner,
                           settings=spec.settings if spec.settings is not None else Settings())

    def answer(self, item: Item, images: list[Image]) -> Outcome:
        left, right = images[0], (images[1] if item.two_images else None)
        answer = self.agent.ask(left, item.query, right=right)
        valid = bool(answer.program) and answer.status not in ("invalid_program",)
        # the execution's result, not answer.image: ImageStore.put keys an edited image by its source
        # file, which an edit keeps, so answer.image can come back as the unedited input
        image = (answer.execution.image if answer.execution is not None else None) or answer.image
        return Outcome(answer.status, answer.text, image, answer.program, valid, answer.llm_calls,
                       answer.prompt_tokens, answer.errors, answer.execution, answer.reason)


class VisProgRunner(_Runner):
    """The baseline (see ``loupe.agent.evaluation.visprog``): one planning call, then steps one by one."""

    def __init__(self, spec: EvalSpec):
        super().__init__(spec)
        from loupe.agent.planning.planner import make_planners

        self.planner = make_planners(self.llm, self.registry)["tasks" if spec.mode == "tasks" else "program"]
        self.planner.max_repairs = 0  # VisProg: one LLM call per item, no repair

    def answer(self, item: Item, images: list[Image]) -> Outcome:
        from loupe.agent.evaluation.visprog import run_sequential

        from loupe.tools.injected import LLM_KEY, injected

        inputs = {"LEFT": images[0], "RIGHT": images[1]} if item.two_images else {"IMAGE": images[0]}
        plan = self.planner.plan(item.query, item.two_images)
        if not plan.ok:
            return Outcome("invalid_program", program=plan.draft.reply or plan.draft.text,
                           llm_calls=plan.llm_calls, prompt_tokens=plan.prompt_tokens, errors=(plan.error,))
        with injected({LLM_KEY: self.llm}):  # LIST and PICK_TEXT use the planner's model
            execution = run_sequential(self.registry, plan.checked, inputs)
        status = "ok" if execution.ok else "failed"
        return Outcome(status, execution.text, execution.image, plan.program_text, True,
                       plan.llm_calls, plan.prompt_tokens, tuple(execution.errors), execution)

