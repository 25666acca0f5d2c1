"""The dependencies of the agent graph's nodes (``GraphDeps``), built once per Agent: the planners, the
interpreter, the image store and the program cache. Batch and the evaluation need only planners
(``loupe.agent.planning.planner.make_planners``)."""

from __future__ import annotations

import sqlite3
from typing import Callable
import warnings

from loupe.agent.image_store import ImageStore
from loupe.agent.planning.coverage import InstalledTools, assess, result_type
from loupe.agent.planning.reading import read_request
from loupe.agent.planning.planner import check_planner_kind, make_planners
from loupe.agent.planning.saycan import SayCanPlanner, SayCanRun
from loupe.programs.checker import CheckedProgram
from loupe.programs.interpreter import Interpreter
from loupe.programs.trace import Execution, StepRecord
from loupe.tools.injected import LLM_KEY, injected

MODES = ("program", "tasks", "saycan")


def step_event(record: StepRecord) -> dict:
    return {"event": "step", **record.summary()}


class GraphDeps:
    """What the graph's nodes use: the planners, the interpreter (with the LLM injected for LIST and
    PICK_TEXT per run: the caller's registry is never written to), the image store and the program cache.
    It keeps nothing of a run: executions travel back through the graph (see ``loupe.agent.graph``)."""

    def __init__(self, llm, registry, use_cache: bool = True, cache_path=None, image_folder=None,
                 step_timeout_s: float = 300.0, examples_k: int = 6, persist_images: bool = True,
                 planner: str = "auto"):
        from loupe.programs.examples_library import load_library

        check_planner_kind(planner)
        self.llm, self.registry = llm, registry
        self.tools = InstalledTools(registry)   # affordances and result types, for the coverage of a plan
        library = load_library()
        self.images = ImageStore(image_folder, persist=persist_images)
        self.step_timeout_s = step_timeout_s
        self.cache = _open_cache(registry, cache_path, library, llm_identity(llm)) if use_cache else None
        self._planners = make_planners(llm, registry, planner, self.cache, library, examples_k)
        self.retriever = self._planners["program"].retriever
        self.planner_kind = "rank" if hasattr(self._planners["program"], "rank") else "generate"
        self.on_step: Callable[[str, StepRecord], None] | None = None  # (run id, record) of every step run
        self.approve: Callable[[str, list[str]], bool] | None = None  # SayCan's per-edit approval (the Agent's)

    def planner(self, mode: str):
        return self._planners[mode]

    def interpreter(self, on_record: Callable | None = None) -> Interpreter:
        return Interpreter(self.registry, step_timeout_s=self.step_timeout_s, on_record=on_record)

    def execute(self, run_id: str, program: CheckedProgram, inputs: dict, on_record=None) -> Execution:
        """Run an already checked program (the interpreter neither parses nor checks it again)."""
        if self.on_step is not None:
            on_record = _both(lambda record, observe=self.on_step: observe(run_id, record), on_record)
        with injected({LLM_KEY: self.llm}):
            return self.interpreter(on_record).run(program, inputs)

    def saycan(self, query: str, inputs: dict, approve=None) -> SayCanRun:
        """A SayCan run; ``approve(program, edits)`` is asked before each step that writes an image."""
        planner = SayCanPlanner(self.llm, self.registry, self.retriever, self.interpreter(), approve=approve,
                                ranker=self._planners["program"])
        with injected({LLM_KEY: self.llm}):
            return planner.run(query, inputs)

    def close(self) -> None:
        """Remove the image store's temporary folder and close the program cache."""
        self.images.close()
        if self.cache is not None:
            self.cache.close()

    def coverage(self, query: str, program):
        """How ``program`` covers ``query`` on this registry (``loupe.agent.planning.coverage.assess``)."""
        return assess(read_request(query), program, self.tools)

    def outside_choices(self, query: str, answer: str) -> str:
        """For a choice question ('is the car red or white?'): a reason when ``answer`` is none of its choices."""
        choices = read_request(query).choices
        if not choices or not isinstance(answer, str):
            return ""
        said = set(answer.lower().replace(",", " ").split())
        if said & set(choices):
            return ""
        return f"the answer {answer!r} is none of the choices asked about ({' or '.join(choices)})"

    def doubts(self, execution) -> str:
        """Why a count or a yes/no answer rests on weak evidence, or '': objects that LOC found (or saw too
        faintly to count) with scores in the band the calibration photos showed to be unreliable
        (``Objects.sure_score``)."""
        from loupe.programs.values import Objects

        if result_type(execution.program, self.tools.returns_image) not in ("number", "yesno"):
            return ""
        weak: dict[str, list[float]] = {}
        for record in execution.records:
            found = record.value
            if record.module != "LOC" or not isinstance(found, Objects) or not found.sure_score:
                continue
            scores = [o.score for o in found.items if o.score < found.sure_score] + [o.score for o in found.faint]
            if scores:
                weak.setdefault(found.sought or "objects", []).extend(scores)
        if not weak:
            return ""
        named = "; ".join(f"{name!r} (score {', '.join(f'{s:.2f}' for s in sorted(scores, reverse=True)[:3])})"
                          for name, scores in weak.items())
        return (f"weak evidence for {named}: on the labelled calibration photos such detections were right about "
                f"half of the time, so the answer may be wrong")

    def cache_lookup(self, query: str, mode: str) -> str | None:
        """A learned program for the request's reading (its main clause, mended: 'Could you count the cups,
        pls?' finds what 'count the plates' taught), checked; None on a miss."""
        if self.cache is None or mode != "program":
            return None
        try:
            hit = self.cache.lookup(read_request(query).clause)
        except sqlite3.Error as error:
            self._drop_cache(error)
            return None
        return hit.program if hit else None

    def cache_store(self, query: str, program: str) -> None:
        if self.cache is not None:
            try:
                self.cache.store(read_request(query).clause, program)
            except sqlite3.Error as error:
                self._drop_cache(error)

    def _drop_cache(self, error: Exception) -> None:
        """The cache file broke during the run: warn once and go on without it (it is only a shortcut)."""
        _warn_cache(self.cache.path, error)
        self.cache = None


def llm_identity(llm) -> str:
    """Which model plans (provider and model): the program cache keeps each model's programs apart, so a
    remote model's program never answers a request planned locally, nor the reverse."""
    return f"{getattr(llm, 'provider', type(llm).__name__)}:{getattr(llm, 'model', '') or ''}"


def _open_cache(registry, cache_path, library, planner_identity: str = ""):
    """The program cache, seeded with the curated library; None (and a warning) when its file is unusable."""
    from loupe.agent.planning.program_cache import ProgramCache, toolset_key

    key = toolset_key(registry) + (f"|{planner_identity}" if planner_identity else "")
    cache = ProgramCache(cache_path, key, registry)
    try:
        cache.seed((e.instruction, e.program) for e in library if len(e.program.splitlines()) > 1)
    except (sqlite3.Error, OSError, RuntimeError) as error:  # corrupt, unreadable, or from a newer Loupe
        _warn_cache(cache.path, error)
        cache.close()
        return None
    return cache


def _warn_cache(path, error: Exception) -> None:
    warnings.warn(f"the program cache {path} cannot be used ({error}); going on without it "
                  f"(delete the file to start a fresh cache, or pass --no-cache)", CacheWarning, stacklevel=3)


class CacheWarning(UserWarning):
    """The program cache file is unusable; Loupe plans every query with the LLM instead."""


def _both(first: Callable, second: Callable | None) -> Callable:
    def call(record: StepRecord) -> None:
        first(record)
        if second is not None:
            second(record)
    return call
