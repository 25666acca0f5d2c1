"""The warm core of the service: one Agent per offered LLM (models loaded once), a bounded pool of
worker threads, cross-request batching of tool calls, and the runs with their events and results.

Handlers call ``submit_ask`` / ``submit_program`` (which admit the run or raise a 503) and then read the
run's events; the worker thread runs ``Agent.stream`` and publishes each event. An edit that needs
approval blocks its worker in the agent's approval callback until ``decide`` (or the approval time limit).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import threading
import time
import uuid

from agent.graph_deps import MODES
from agent.service.batching import Coalescer, CoalescingRegistry
from agent.service.config import ServiceConfig
from agent.service.limits import Admission, ServiceError
from agent.service.results import ask_result, program_result, public_event
from agent.service.runs import Run, RunStore
from programs.errors import LoupeError, ProgramError
from programs.trace import StepRecord


class Engine:
    """``llm_factory(spec) -> LLM`` builds an offered LLM (default: ``make_llm``, plus ``oracle:FILE``)."""

    def __init__(self, config: ServiceConfig, registry=None, llm_factory=None):
        from agent.evaluation.systems import make_model
        from tools.registry import default_registry

        self.config = config
        self.runs = RunStore(config.result_ttl_s, config.max_results)
        self.admission = Admission(config.workers, config.max_queue)
        self.pool = ThreadPoolExecutor(config.workers, thread_name_prefix="loupe-run")
        self.coalescer = Coalescer(config.batch_window_s, config.max_batch, busy=lambda: self.running > 1)
        self.registry = CoalescingRegistry(registry or default_registry(), self.coalescer)
        self._make_llm = llm_factory or make_model
        self._agents: dict = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self.running = 0
        self.started = time.time()

    # ---- agents ------------------------------------------------------------------------------------

    def agent(self, spec: str | None = None):
        """The warm Agent for ``spec`` (one of the offered LLMs; 422 otherwise), built on first use."""
        from agent.api import Agent
        from agent.evaluation.systems import _Serialized

        spec = spec or self.config.default_llm
        if spec not in self.config.llms:
            raise ServiceError(422, f"unknown llm {spec!r}; this server offers {', '.join(self.config.llms)}",
                               "llms", len(self.config.llms))
        with self._lock:
            if spec not in self._agents:
                agent = Agent(llm=_Serialized(self._make_llm(spec)),  # one LLM call at a time
                              registry=self.registry, use_cache=self.config.use_cache, cache_path=self.config.cache_path,
                              approve=self._approval_gate, step_timeout_s=self.config.step_timeout_s)
                agent.deps.on_step = self._on_step
                self._agents[spec] = agent
            return self._agents[spec]

    def warm_up(self) -> None:
        """Load the default LLM's agent and every vision model that can run here."""
        from agent.evaluation.systems import warm_up

        self.agent()
        warm_up(self.registry)

    # ---- submitting --------------------------------------------------------------------------------

    def submit_ask(self, image, query: str, right=None, mode: str = "program", llm: str | None = None,
                   require_approval: bool = False) -> Run:
        """Admit an ask (or raise 422 / 503) and start it on a worker; returns the run at once."""
        if not query or not query.strip():
            raise ServiceError(422, "the query is empty; ask a question or give an instruction")
        if mode not in MODES:
            raise ServiceError(422, f"unknown mode {mode!r}; choose {', '.join(MODES)}")
        agent = self.agent(llm)
        run = Run(uuid.uuid4().hex, "ask", query.strip(), mode, llm or self.config.default_llm,
                  require_approval=require_approval)
        self._start(run, self._ask, agent, image, right)
        return run

    def submit_program(self, program, inputs: dict) -> Run:
        """Admit a checked program run over named input images."""
        run = Run(uuid.uuid4().hex, "run")
        self._start(run, self._run_program, program, inputs)
        return run

    def _start(self, run: Run, work, *args) -> None:
        self.admission.admit()
        self.runs.add(run)
        self.pool.submit(self._work, run, work, *args)

    def decide(self, run_id: str, approved: bool) -> Run:
        run = self.run(run_id)
        if run.status != "awaiting_approval":
            raise ServiceError(409, f"run {run_id} is not waiting for approval (it is {run.status})")
        run.decide(approved)
        return run

    def run(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise ServiceError(404, f"no run {run_id} (unknown, or its results expired)")
        return run

    # ---- working (on a worker thread) --------------------------------------------------------------

    def _work(self, run: Run, work, *args) -> None:
        run.started, run.status = time.time(), "running"
        with self._lock:
            self.running += 1
        try:
            work(run, *args)
        except (LoupeError, ServiceError) as error:
            self._fail(run, "failed", str(error))
        except Exception as error:  # a bug: the client gets its name, the server keeps serving
            self._fail(run, "error", f"internal error: {type(error).__name__}: {error}")
        finally:
            with self._lock:
                self.running -= 1
            run.finished = time.time()
            self.admission.release(run.finished - run.started)
            run.publish({"event": "done", "status": run.status, "result": run.result})

    def _ask(self, run: Run, agent, image, right) -> None:
        self._local.run = run
        answer = None
        try:
            for event in agent.stream(image, run.query, right, run.mode, run_id=run.id):
                if event["event"] == "done":
                    answer = event["answer_object"]
                else:
                    run.publish(public_event(run, event))
        finally:
            agent.forget(run.id)  # the run keeps what clients may fetch; the agent's copies go
        run.execution, run.image, run.saycan = answer.execution, answer.image, answer.saycan
        if answer.execution is not None and answer.execution.image is not None:
            run.image = answer.execution.image  # the edit itself (as agent/evaluation/systems.py reads it)
        self._settle(run, answer.status, ask_result(run, answer))

    def _run_program(self, run: Run, program, inputs: dict) -> None:
        from agent.graph_deps import step_event
        from programs.interpreter import Interpreter

        def on_record(record: StepRecord) -> None:
            self._on_step(run.id, record)
            run.publish(public_event(run, step_event(record)))

        execution = Interpreter(self.registry, step_timeout_s=self.config.step_timeout_s,
                                on_record=on_record).run(program, inputs)
        run.execution = execution
        self._settle(run, "ok" if execution.ok else "failed", program_result(run, execution))

    def _settle(self, run: Run, status: str, result: dict) -> None:
        if run.status == "timed_out":  # the client was already told; keep that answer
            return
        run.status, run.result = status, result

    def _fail(self, run: Run, status: str, message: str) -> None:
        if run.status != "timed_out":
            run.status = status
            run.result = {"id": run.id, "kind": run.kind, "status": status, "errors": [message]}

    def _on_step(self, run_id: str, record: StepRecord) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.records[record.output] = record

    def _approval_gate(self, program: str, edits: list[str]) -> bool:
        """The agents' approval callback: runs asking for approval wait here for ``decide``."""
        run = getattr(self._local, "run", None)
        if run is None or not run.require_approval:
            return True
        run.status = "awaiting_approval"
        run.publish({"event": "approval_required", "run_id": run.id, "program": program, "edits": edits,
                     "approve_url": f"/v1/runs/{run.id}/approve", "reject_url": f"/v1/runs/{run.id}/reject"})
        decided = run.decided.wait(self.config.approval_timeout_s)
        run.status = "running"
        return bool(decided and run.decision)

    # ---- reporting ---------------------------------------------------------------------------------

    def health(self) -> dict:
        stats = self.coalescer.stats
        return {"ok": True, "uptime_s": round(time.time() - self.started, 1), "llms": list(self.config.llms),
                "default_llm": self.config.default_llm, "running": self.running,
                "admitted": self.admission.admitted, "capacity": self.admission.capacity,
                "results_kept": len(self.runs),
                "batching": {"window_ms": self.config.batch_window_s * 1000, "batches": stats.batches,
                             "calls": stats.calls, "requests_merged": stats.requests}}

    def timed_out(self, run: Run) -> dict:
        """Mark ``run`` as past its time limit (its thread finishes unobserved); the error body."""
        message = f"the request ran past its time limit of {self.config.request_timeout_s:g} s"
        self._fail(run, "timed_out", message)
        run.status = "timed_out"
        return {"error": message, "limit": "request_timeout_s", "value": self.config.request_timeout_s,
                "id": run.id}

    def check(self, text: str) -> dict:
        """Parse and check a program (VisProg text or a JSON task list): ``ok`` and the program or errors."""
        from programs import load_program
        from programs.checker import check
        from programs.render import render

        try:
            checked = check(load_program(text, self.registry.names()), self.registry)
        except ProgramError as error:
            return {"ok": False, "errors": [vars(d) for d in error.diagnostics]}
        return {"ok": True, "steps": len(checked.program.steps), "inputs": list(checked.inputs),
                "program": render(checked.program)}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
