"""Everything the agent graph's nodes use, built once per Agent: planners, interpreter, stores, cache."""

from __future__ import annotations

import sqlite3
import threading
from typing import Callable
import warnings

from agent.image_store import ImageStore
from agent.list_backend import set_llm
from agent.planner import ProgramPlanner, TaskPlanner
from agent.saycan import SayCanPlanner, SayCanRun
from programs.interpreter import Interpreter
from programs.trace import Execution, StepRecord
from programs.values import as_text

MODES = ("program", "tasks", "saycan")
PLANNERS = ("auto", "rank", "generate")


def ranks_by_default(llm) -> bool:
    """``--planner auto``: rank with the embedded local model; generate with remote models, LangChain
    chat models and the evaluation oracle (which answers the generation prompt)."""
    return getattr(llm, "provider", None) == "local"


def step_event(record: StepRecord) -> dict:
    value = record.value
    shown = None if value is None else as_text(value)[:200]
    return {"event": "step", "line": record.line, "output": record.output, "module": record.module,
            "status": str(record.status), "wall_ms": round(record.wall_s * 1000, 2), "backend": record.backend,
            "value": shown, "error": record.error}


class Runtime:
    def __init__(self, llm, registry, use_cache: bool = True, cache_path=None, image_folder=None,
                 step_timeout_s: float = 300.0, examples_k: int = 6, persist_images: bool = True,
                 planner: str = "auto"):
        from agent.retrieval import ExampleRetriever
        from programs.examples_library import load_library

        self.llm, self.registry = llm, registry
        set_llm(registry.context, llm)
        library = load_library()
        self.retriever = ExampleRetriever(library)
        self.task_retriever = ExampleRetriever([e for e in library if e.tasks])
        self.images = ImageStore(image_folder, persist=persist_images)
        self.step_timeout_s = step_timeout_s
        if planner not in PLANNERS:
            from programs.errors import ProgramError

            raise ProgramError.at(f"unknown planner {planner!r}", suggestion="choose auto, rank or generate")
        self.cache = _open_cache(registry, cache_path, library) if use_cache else None
        self.planner_kind = "rank" if planner == "rank" or (planner == "auto" and ranks_by_default(llm)) \
            else "generate"
        if self.planner_kind == "rank":
            from agent.rank_planner import RankPlanner

            program_planner = RankPlanner(llm, registry, self.retriever, examples_k, cache=self.cache)
        else:
            program_planner = ProgramPlanner(llm, registry, self.retriever, examples_k)
        self._planners = {
            "program": program_planner,
            "tasks": TaskPlanner(llm, registry, self.task_retriever, examples_k=4, program_planner=program_planner),
        }
        self.executions: dict[str, Execution] = {}
        self.saycan_runs: dict[str, SayCanRun] = {}
        self.on_step: Callable[[str, StepRecord], None] | None = None  # (run id, record) of every step run
        self._lock = threading.Lock()
        self.approve: Callable[[str, list[str]], bool] | None = None  # SayCan's per-edit approval (the Agent's)

    def planner(self, mode: str):
        return self._planners[mode]

    def interpreter(self, on_record: Callable | None = None) -> Interpreter:
        return Interpreter(self.registry, step_timeout_s=self.step_timeout_s, on_record=on_record)

    def execute(self, run_id: str, program: str, inputs: dict, on_record=None) -> Execution:
        if self.on_step is not None:
            on_record = _both(lambda record, observe=self.on_step: observe(run_id, record), on_record)
        execution = self.interpreter(on_record).run(program, inputs)
        with self._lock:
            self.executions[run_id] = execution
        return execution

    def saycan(self, run_id: str, query: str, inputs: dict, approve=None) -> SayCanRun:
        """A SayCan run; ``approve(program, edits)`` is asked before each step that writes an image."""
        planner = SayCanPlanner(self.llm, self.registry, self.retriever, self.interpreter(), approve=approve,
                                ranker=self._planners["program"])
        run = planner.run(query, inputs)
        with self._lock:
            self.saycan_runs[run_id] = run
            self.executions[run_id] = run.execution
        return run

    def close(self) -> None:
        """Remove the image store's temporary folder and close the program cache."""
        self.images.close()
        if self.cache is not None:
            self.cache.close()

    def cache_lookup(self, query: str, mode: str) -> str | None:
        if self.cache is None or mode != "program":
            return None
        try:
            hit = self.cache.lookup(query)
        except sqlite3.Error as error:
            self._drop_cache(error)
            return None
        return hit.program if hit else None

    def cache_store(self, query: str, program: str) -> None:
        if self.cache is not None:
            try:
                self.cache.store(query, program)
            except sqlite3.Error as error:
                self._drop_cache(error)

    def _drop_cache(self, error: Exception) -> None:
        """The cache file broke during the run: warn once and go on without it (it is only a shortcut)."""
        _warn_cache(self.cache.path, error)
        self.cache = None


def _open_cache(registry, cache_path, library):
    """The program cache, seeded with the curated library; None (and a warning) when its file is unusable."""
    from agent.program_cache import ProgramCache

    cache = ProgramCache.for_registry(registry, cache_path)
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
