"""The warm core of the service: one Agent per offered LLM (models loaded once), a bounded pool of
worker threads, cross-request batching of tool calls, and the runs with their events and results.

Handlers call ``submit_ask`` / ``submit_program`` (which admit the run or raise a 503) and then read the
run's events; the worker thread runs ``Agent.stream`` and publishes each event.

Workers: at most ``workers`` runs work at once (a semaphore of slots); the thread pool has
``max_pending_approvals`` more threads, so that runs waiting for a person (which give their slot and
their place in the queue back while they wait) never keep a queued run from starting. An edit that needs
approval waits in the agent's approval callback (``_approval_gate``) until ``decide`` names its program,
the approval expires, or the run is cancelled. The gate finds its run through a context variable, which
LangGraph's and the interpreter's threads (SayCan's node included) inherit; with no run it refuses. A run
needs approval when its client asks for it or the server requires it (``ServiceConfig.require_approval``:
every submit below ORs the two, so no client can turn it off); a program run (``/v1/run``) passes the same
gate with the client's exact text before it runs a step, when the program writes an image.

Cancellation: ``cancel`` (a request past its limit, a disconnected client, a rejected edit) makes the
run's next tool call or LLM call raise ``RunCancelled`` (``Run.check``), so its worker is free after the
step that is running. The run is its LLM calls' budget too (``loupe.agent.llm.base.within``): a planner call
made for it stops at the request's time limit, retries included, and checks for cancellation between
tries and between the embedded model's forwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
import contextvars
from functools import partial
import math
import threading
import time
import uuid

from loupe.agent.graph_deps import MODES
from loupe.agent.llm.base import within
from loupe.agent.service.batching import Coalescer, CoalescingRegistry
from loupe.agent.service.config import ServiceConfig
from loupe.agent.service.limits import Admission, ServiceError
from loupe.agent.service.results import ask_result, program_result, public_event
from loupe.agent.service.runs import Run, RunCancelled, RunStore, time_limit_message
from loupe.programs.errors import LoupeError, ProgramError
from loupe.programs.trace import StepRecord
from loupe.tools.injected import CHECK_KEY, injected


class Engine:
    """``llm_factory(spec) -> LLM`` builds an offered LLM (default: ``make_llm`` under ``config.settings``,
    plus ``oracle:FILE``); the default registry is built under ``config.settings`` too."""

    def __init__(self, config: ServiceConfig, registry=None, llm_factory=None):
        from loupe.agent.evaluation.systems import make_model
        from loupe.tools.registry import default_registry

        self.config = config
        self.runs = RunStore(config.result_ttl_s, config.max_results)
        self.admission = Admission(config.workers, config.max_queue)
        self.pool = ThreadPoolExecutor(config.workers + config.max_pending_approvals, thread_name_prefix="loupe-run")
        self.slots = threading.BoundedSemaphore(config.workers)
        self.coalescer = Coalescer(config.batch_window_s, config.max_batch, busy=lambda: self.running > 1)
        self.registry = CoalescingRegistry(registry or default_registry(config.settings), self.coalescer,
                                           check=_check_current)
        self._video_registry = None
        self._make_llm = llm_factory or (lambda spec: make_model(spec, config.settings))
        self._agents: dict = {}
        self._lock = threading.Lock()
        self.running = 0
        self.awaiting = 0
        self._awaiting_by_client: dict[str, int] = {}
        self.started = time.time()

    # ---- agents ------------------------------------------------------------------------------------

    def agent(self, spec: str | None = None):
        """The warm Agent for ``spec`` (one of the offered LLMs; 422 otherwise), built on first use."""
        from loupe.agent.api import Agent
        from loupe.agent.evaluation.systems import _Serialized

        spec = spec or self.config.default_llm
        if spec not in self.config.llms:
            raise ServiceError(422, f"unknown llm {spec!r}; this server offers {', '.join(self.config.llms)}",
                               "llms", len(self.config.llms))
        with self._lock:
            if spec not in self._agents:
                llm = self._make_llm(spec)
                if not getattr(llm, "thread_safe", False):
                    llm = _Serialized(llm)  # the evaluation's one-at-a-time wrapper (its interface, too)
                llm = _RunLLM(llm)  # checks the run; its own turns unless the LLM is thread-safe
                agent = Agent(llm=llm, registry=self.registry, settings=self.config.settings,
                              use_cache=self.config.use_cache,
                              cache_path=self.config.cache_path,
                              approve=self._approval_gate, step_timeout_s=self.config.step_timeout_s)
                agent.deps.on_step = self._on_step
                self._agents[spec] = agent
            return self._agents[spec]

    def warm_up(self) -> None:
        """Load the default LLM's agent and every vision model that can run here."""
        from loupe.agent.evaluation.systems import warm_up

        self.agent()
        warm_up(self.registry)

    # ---- submitting --------------------------------------------------------------------------------

    def submit_ask(self, image, query: str, right=None, mode: str = "program", llm: str | None = None,
                   require_approval: bool = False, client: str = "", work=None) -> Run:
        """Admit an ask (or raise 422 / 429 / 503) and start it on a worker; returns the run at once.
        ``work(run, agent, image, right)``: what the worker does (default: the ask; a session's turn)."""
        _check_query(query)
        if mode not in MODES:
            raise ServiceError(422, f"unknown mode {mode!r}; choose {', '.join(MODES)}")
        agent = self.agent(llm)
        require_approval = self._approval_needed(require_approval, client)
        run = Run(uuid.uuid4().hex, "ask", query.strip(), mode, llm or self.config.default_llm,
                  require_approval=require_approval, client=client)
        self._start(run, work or self._ask, agent, image, right)
        return run

    def _approval_needed(self, asked: bool, client: str) -> bool:
        """Whether a new run's edits wait for a person: the client asked, or the server requires it (then
        the client's own ``false`` counts for nothing). Such a run is refused (429) while the client has
        ``max_pending_approvals_per_client`` edits waiting already."""
        needed = asked or self.config.require_approval
        if needed:
            self._check_pending_cap(client)
        return needed

    def _check_pending_cap(self, client: str) -> None:
        cap = self.config.max_pending_approvals_per_client
        with self._lock:
            waiting = self._awaiting_by_client.get(client, 0)
        if waiting >= cap:
            wait = self._approval_retry_after(client)
            raise ServiceError(429, f"this client has {waiting} edits waiting for approval (the limit is {cap}); "
                                    f"decide or wait for them first (the first expires in {wait} s)",
                               "max_pending_approvals_per_client", cap, retry_after_s=wait)

    def _approval_retry_after(self, client: str) -> int:
        """Seconds until one of ``client``'s waiting edits is sure to end: the oldest undecided approval's expiry
        (the run then ends ``rejected``); with none seen waiting (one decided meanwhile), the queue's estimate."""
        now = time.time()
        expiries = []
        for run in self.runs.matching(lambda r: r.client == client and r.require_approval and not r.done):
            pending = run.pending
            if pending is not None and not pending.decided:
                expiries.append(pending.created + self.config.approval_timeout_s - now)
        if not expiries:
            return self.admission.retry_after()
        return int(min(3600, max(1, math.ceil(min(expiries)))))

    def submit_video_ask(self, job, query: str, require_approval: bool = False, client: str = "") -> Run:
        """Admit a question about a video (``loupe.agent.service.videos.VideoAsk``) and start it on a worker."""
        _check_query(query)
        require_approval = self._approval_needed(require_approval, client)
        run = Run(uuid.uuid4().hex, "ask", query.strip(), "video", "", require_approval=require_approval,
                  client=client, video=job)
        self._start(run, self._ask_video, job)
        return run

    def video_registry(self):
        """The service's tools with the video tools added (same models, same batching and cancellation)."""
        from loupe.tools.video_tools import register_video_tools

        with self._lock:
            if self._video_registry is None:
                registry = CoalescingRegistry(self.registry, self.coalescer, check=_check_current)
                register_video_tools(registry)
                self._video_registry = registry
            return self._video_registry

    def submit_program(self, program, inputs: dict, client: str = "", text: str | None = None,
                       require_approval: bool = False) -> Run:
        """Admit a program run over named input images. ``text``: the program as the client sent it (what an
        approval shows and its SHA-256 names; default: the program rendered). With approval (the client's
        or the server's), a program that writes an image waits for it before its first step."""
        from loupe.programs.render import render

        require_approval = self._approval_needed(require_approval, client)
        run = Run(uuid.uuid4().hex, "run", client=client, require_approval=require_approval)
        self._start(run, self._run_program, program, inputs, render(program) if text is None else text)
        return run

    def _edits_of(self, program) -> list[str]:
        """The tools of ``program``'s steps that write an image (what an approval lists), in order."""
        names = self.registry.names()
        return [s.module for s in program.steps
                if s.module in names and self.registry.tool_class(s.module).writes_image]

    def _start(self, run: Run, work, *args) -> None:
        self.admission.admit()
        run.limit(self.config.request_timeout_s)
        self.runs.add(run)
        self.pool.submit(self._work, run, work, *args)

    def decide(self, run_id: str, approved: bool, sha256: str | None = None) -> Run:
        """Approve or reject the program ``run_id`` waits for now. An approval must name that program
        (``sha256``: the SHA-256 of its exact text, as the ``approval_required`` event and its
        ``approve_url`` give it); a decision for any other program is refused (409), never applied to
        the one that waits. Unknown runs are 404."""
        run = self.run(run_id)
        pending = run.pending
        if pending is None or pending.decided or run.done:
            raise ServiceError(409, f"run {run_id} is not waiting for approval (it is {run.status})")
        if approved and not sha256:
            raise ServiceError(422, "an approval names the program it approves: send program_sha256 (the "
                                    "approval_required event's; its approve_url carries it)")
        if sha256 and sha256.lower() != pending.sha256:
            raise ServiceError(409, f"run {run_id} waits for approval of another program "
                                    f"(program_sha256 {pending.sha256}); read it and decide on that one")
        run.limit(self.config.request_timeout_s)  # the deciding request's own time limit, from now
        if run.decide(approved, pending.sha256) is None:
            raise ServiceError(409, f"run {run_id} is not waiting for approval (it is {run.status})")
        return run

    def cancel(self, run: Run, status: str, reason: str) -> None:
        """Stop ``run`` (at its next step or LLM call); it ends as ``status`` with ``reason``."""
        run.cancel(status, reason)

    def run(self, run_id: str) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise ServiceError(404, f"no run {run_id} (unknown, or its results expired)")
        return run

    # ---- working (on a worker thread) --------------------------------------------------------------

    def _work(self, run: Run, work, *args) -> None:
        # the run's LLM calls keep to its time limit and stop when it is cancelled; a long step over a
        # video's frames checks it between frames batches (loupe.tools.injected.check_between)
        with within(run), injected({CHECK_KEY: partial(_check_run, run)}):
            self._work_within(run, work, *args)

    def _work_within(self, run: Run, work, *args) -> None:
        token = _CURRENT.set(run)  # the approval gate and the cancellation checks find the run here
        try:
            self._take_slot(run)  # a queued run waits here for a worker (a cancelled one gives up)
            run.started, run.status = time.time(), "running"
            self.admission.started(run.id)
            with self._lock:
                self.running += 1
            try:
                work(run, *args)
            finally:
                with self._lock:
                    self.running -= 1
        except RunCancelled:
            self._fail(run, "cancelled", "the run was cancelled")
        except (LoupeError, ServiceError) as error:
            self._fail(run, "failed", str(error))
        except Exception as error:  # a bug: the client gets its name, the server keeps serving
            self._fail(run, "error", f"internal error: {type(error).__name__}: {error}")
        finally:
            _CURRENT.reset(token)
            self._give_slot(run)
            run.finished = time.time()
            self.admission.release(run.work_s if run.started else None, run.id)
            run.publish({"event": "done", "status": run.status, "result": run.result})

    def _take_slot(self, run: Run) -> None:
        """Wait for a worker slot, giving up (``RunCancelled``) when the run is cancelled meanwhile."""
        while not self.slots.acquire(timeout=0.2):
            run.check()
        run.holds_slot = True
        run.slot_since = time.monotonic()
        try:
            run.check()
        except RunCancelled:
            self._give_slot(run)
            raise

    def _give_slot(self, run: Run) -> None:
        if run.holds_slot:
            run.holds_slot = False
            run.work_s += time.monotonic() - run.slot_since
            self.slots.release()

    def _ask(self, run: Run, agent, image, right) -> None:
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
            run.image = answer.execution.image  # the edit itself (as loupe/agent/evaluation/systems.py reads it)
        self._settle(run, answer.status, ask_result(run, answer))

    def _ask_video(self, run: Run, job) -> None:
        """``loupe ask`` on a video, on this worker: the time words' program, approval through the gate."""
        from loupe.agent.service.results import video_result
        from loupe.agent.service.videos import discard_upload
        from loupe.agent.video_ask import answer_video
        from loupe.agent.video_rationale import render_video_html

        try:
            job.answer = answer_video(job.video, run.query, job.fps, self.config.settings, self._approval_gate,
                                      registry=self.video_registry(), on_record=partial(self._publish_step, run))
            run.execution = job.answer.execution
            self._settle(run, job.answer.status, video_result(run, job))
            if job.uploaded and run.execution is not None:  # its frame strip decodes the input once more
                job.rationale = job.hide_paths(render_video_html(run.execution, run.query, run.status,
                                                                 job.answer.reason))
        finally:
            if job.uploaded:  # an upload is kept no longer than its run: disk use stays bounded by the workers
                discard_upload(job.video.path)

    def _run_program(self, run: Run, program, inputs: dict, text: str) -> None:
        from loupe.programs.interpreter import Interpreter

        edits = self._edits_of(program)
        if edits and run.require_approval:
            approved = self._approval_gate(text, edits)
            run.publish({"event": "approval", "approved": approved, "edits": edits})
            if not approved:  # the gate cancelled the run: it ends as that says (rejected, expired, full)
                raise RunCancelled(run.cancel_reason or "the edit was not approved")
        execution = Interpreter(self.registry, step_timeout_s=self.config.step_timeout_s,
                                on_record=partial(self._publish_step, run)).run(program, inputs)
        run.execution = execution
        self._settle(run, "ok" if execution.ok else "failed", program_result(run, execution))

    def _publish_step(self, run: Run, record: StepRecord) -> None:
        """A step of a program run or a video question ended: kept for its thumbnail, and streamed."""
        from loupe.agent.graph_deps import step_event

        self._on_step(run.id, record)
        run.publish(public_event(run, step_event(record)))

    def _settle(self, run: Run, status: str, result: dict) -> None:
        if run.cancel_status:  # it ends as it was cancelled, with what it made
            if run.cancel_status != "rejected" or status not in ("rejected", "ok"):
                status = run.cancel_status
            errors = result.get("errors", [])
            result = {**result, "status": status,
                      "errors": errors if run.cancel_reason in errors else [*errors, run.cancel_reason]}
        run.status, run.result = status, result

    def _fail(self, run: Run, status: str, message: str) -> None:
        """End ``run`` with no result of its own: the result's usual keys, empty, and the error."""
        status = run.cancel_status or status
        message = run.cancel_reason or message
        run.result = {"id": run.id, "kind": run.kind, "status": status, "query": run.query, "mode": run.mode,
                      "llm": run.llm, "answer": None, "answer_type": "text", "image_url": None, "program": "",
                      "errors": [message], "steps": [], "rationale_url": None, **run.context}
        run.status = status

    def _on_step(self, run_id: str, record: StepRecord) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.records[record.output] = record

    def _approval_gate(self, program: str, edits: list[str]) -> bool:
        """The agents' approval callback (the graph's and SayCan's, from any of the run's threads).

        The run is the context's (``_CURRENT``); with none it refuses. A run that did not ask for approval
        runs its edits. Otherwise ``program`` (exactly this text) waits for ``decide``: the run gives its
        worker slot and its place in the queue back meanwhile, and takes a slot again once approved.
        Rejected, expired or cancelled: False, and the run is cancelled so that nothing more of it runs.
        """
        run = _CURRENT.get()
        if run is None:
            return False  # an unknown run is refused, never approved
        if not run.require_approval:
            return True
        if run.cancelled.is_set():
            return False
        full = self._hold_waiting_place(run.client)
        if full:
            run.cancel("rejected", f"{full}; this edit was not run")
            return False
        approval = run.ask_approval(program, edits)
        run.status = "awaiting_approval"
        self._give_slot(run)
        self.admission.stopped(run.id)
        self.admission.suspend()
        try:
            run.publish({"event": "approval_required", "run_id": run.id, "approval_id": approval.id,
                         "program": program, "program_sha256": approval.sha256, "edits": list(edits),
                         "expires_in_s": self.config.approval_timeout_s,
                         "approve_url": f"/v1/runs/{run.id}/approve?program_sha256={approval.sha256}",
                         "reject_url": f"/v1/runs/{run.id}/reject"})
            approval.woken.wait(self.config.approval_timeout_s)
        finally:
            run.end_approval(approval)
            self.admission.resume()
            with self._lock:
                self.awaiting -= 1
                self._awaiting_by_client[run.client] -= 1
                if not self._awaiting_by_client[run.client]:
                    del self._awaiting_by_client[run.client]
        if approval.decision is None:
            run.cancel("rejected", f"the approval expired after {self.config.approval_timeout_s:g} s; the edit was "
                                   "not run")
        elif not approval.decision:
            run.cancel("rejected", "the edit was not approved")
        if not approval.decision or run.cancelled.is_set():
            if run.status == "awaiting_approval":
                run.status = "running"
            return False
        self._take_slot(run)
        self.admission.started(run.id)
        run.status = "running"
        return True

    def _hold_waiting_place(self, client: str) -> str:
        """Count an edit as waiting (in all and for ``client``); '' when it may wait, else which cap is full."""
        config = self.config
        with self._lock:
            if self.awaiting >= config.max_pending_approvals:
                return (f"the server has {config.max_pending_approvals} edits waiting for approval already "
                        "(max_pending_approvals)")
            if self._awaiting_by_client.get(client, 0) >= config.max_pending_approvals_per_client:
                return (f"this client has {config.max_pending_approvals_per_client} edits waiting for approval "
                        "already (max_pending_approvals_per_client)")
            self.awaiting += 1
            self._awaiting_by_client[client] = self._awaiting_by_client.get(client, 0) + 1
        return ""

    # ---- reporting ---------------------------------------------------------------------------------

    def health(self) -> dict:
        stats = self.coalescer.stats
        return {"ok": True, "uptime_s": round(time.time() - self.started, 1), "llms": list(self.config.llms),
                "default_llm": self.config.default_llm, "running": self.running,
                "admitted": self.admission.admitted, "capacity": self.admission.capacity,
                "awaiting_approval": self.awaiting, "require_approval": self.config.require_approval,
                "results_kept": len(self.runs),
                "batching": {"window_ms": self.config.batch_window_s * 1000, "batches": stats.batches,
                             "calls": stats.calls, "requests_merged": stats.requests}}

    def timed_out(self, run: Run) -> dict:
        """Cancel ``run``, past its time limit (it stops at its next step or LLM call); the error body."""
        message = time_limit_message(self.config.request_timeout_s)
        run.cancel("timed_out", message)
        return {"error": message, "limit": "request_timeout_s", "value": self.config.request_timeout_s,
                "id": run.id}

    def check(self, text: str) -> dict:
        """Parse and check a program (VisProg text or a JSON task list): ``ok`` and the program or errors."""
        from loupe.programs import load_program
        from loupe.programs.checker import check
        from loupe.programs.render import render

        try:
            checked = check(load_program(text, self.registry.names()), self.registry)
        except ProgramError as error:
            return {"ok": False, "errors": [vars(d) for d in error.diagnostics]}
        return {"ok": True, "steps": len(checked.program.steps), "inputs": list(checked.inputs),
                "program": render(checked.program)}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


_CURRENT: contextvars.ContextVar[Run | None] = contextvars.ContextVar("loupe_service_run", default=None)


def _check_query(query: str) -> None:
    """422 for an empty query or one past ``loupe.agent.api``'s limits."""
    from loupe.agent.api import MAX_QUERY_CHARS, check_query
    from loupe.programs.errors import InputError

    if not query or not query.strip():
        raise ServiceError(422, "the query is empty; ask a question or give an instruction")
    try:
        check_query(query)
    except InputError as error:
        raise ServiceError(422, str(error), "max_query_chars", MAX_QUERY_CHARS) from None


def _check_run(run: Run) -> None:
    """Raise ``RunCancelled`` when ``run`` was cancelled, is past its limit, or has ended (a step the
    interpreter stopped waiting for must not go on decoding frames for nobody)."""
    run.check()
    if run.done:
        raise RunCancelled(f"run {run.id} has ended")


def _check_current() -> None:
    """Raise ``RunCancelled`` when the context's run was cancelled (before each tool and LLM call)."""
    run = _CURRENT.get()
    if run is not None:
        run.check()


class _RunLLM:
    """Forwards to an LLM for the runs. Each completion or scoring call first checks that its run goes on.
    An LLM that is not ``thread_safe`` (``loupe.agent.llm.base.LLM``'s flag; the embedded model, the oracle) gets
    one call at a time, and a run waiting for its turn gives up at its cancellation or its time limit
    (checked every 0.1 s) instead of waiting out another run's long call; a thread-safe one (a remote
    server) takes the runs' calls at once, so one slow remote call holds up no other run's planning."""

    _CALLS = ("complete", "score", "score_split", "score_tree")

    def __init__(self, llm):
        self._llm = llm  # a thread-safe LLM, or one behind _Serialized (which says it is not)
        self._lock = None if getattr(llm, "thread_safe", False) else threading.Lock()

    def __getattr__(self, name):
        value = getattr(self._llm, name)
        if name in self._CALLS and callable(value):
            def call(*args, **kwargs):
                with self._turn():
                    return value(*args, **kwargs)
            return call
        return value

    @contextmanager
    def _turn(self):
        _check_current()
        if self._lock is None:
            yield
            return
        while not self._lock.acquire(timeout=0.1):
            _check_current()
        try:
            yield
        finally:
            self._lock.release()
