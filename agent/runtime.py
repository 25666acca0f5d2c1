"""Everything the agent graph's nodes use, built once per Agent: planners, interpreter, stores, cache."""

from __future__ import annotations

import threading
from typing import Callable

from agent.image_store import ImageStore
from agent.list_backend import set_llm
from agent.planner import ProgramPlanner, TaskPlanner
from agent.saycan import SayCanPlanner, SayCanRun
from programs.interpreter import Interpreter
from programs.trace import Execution, StepRecord
from programs.values import as_text

MODES = ("program", "tasks", "saycan")


def step_event(record: StepRecord) -> dict:
    value = record.value
    shown = None if value is None else as_text(value)[:200]
    return {"event": "step", "line": record.line, "output": record.output, "module": record.module,
            "status": str(record.status), "wall_ms": round(record.wall_s * 1000, 2), "backend": record.backend,
            "value": shown, "error": record.error}


class Runtime:
    def __init__(self, llm, registry, use_cache: bool = True, cache_path=None, image_folder=None,
                 step_timeout_s: float = 300.0, examples_k: int = 6):
        from agent.retrieval import ExampleRetriever
        from programs.examples_library import load_library

        self.llm, self.registry = llm, registry
        set_llm(registry.context, llm)
        library = load_library()
        self.retriever = ExampleRetriever(library)
        self.task_retriever = ExampleRetriever([e for e in library if e.tasks])
        self.images = ImageStore(image_folder)
        self.step_timeout_s = step_timeout_s
        program_planner = ProgramPlanner(llm, registry, self.retriever, examples_k)
        self._planners = {
            "program": program_planner,
            "tasks": TaskPlanner(llm, registry, self.task_retriever, examples_k=4, program_planner=program_planner),
        }
        self.cache = None
        if use_cache:
            from agent.program_cache import ProgramCache

            self.cache = ProgramCache.for_registry(registry, cache_path)
            self.cache.seed((e.instruction, e.program) for e in library if len(e.program.splitlines()) > 1)
        self.executions: dict[str, Execution] = {}
        self.saycan_runs: dict[str, SayCanRun] = {}
        self._lock = threading.Lock()

    def planner(self, mode: str):
        return self._planners[mode]

    def interpreter(self, on_record: Callable | None = None) -> Interpreter:
        return Interpreter(self.registry, step_timeout_s=self.step_timeout_s, on_record=on_record)

    def execute(self, run_id: str, program: str, inputs: dict, on_record=None) -> Execution:
        execution = self.interpreter(on_record).run(program, inputs)
        with self._lock:
            self.executions[run_id] = execution
        return execution

    def saycan(self, run_id: str, query: str, inputs: dict) -> SayCanRun:
        planner = SayCanPlanner(self.llm, self.registry, self.retriever, self.interpreter())
        run = planner.run(query, inputs)
        with self._lock:
            self.saycan_runs[run_id] = run
            self.executions[run_id] = run.execution
        return run

    def cache_lookup(self, query: str, mode: str) -> str | None:
        if self.cache is None or mode != "program":
            return None
        hit = self.cache.lookup(query)
        return hit.program if hit else None

    def cache_store(self, query: str, program: str) -> None:
        if self.cache is not None:
            self.cache.store(query, program)
