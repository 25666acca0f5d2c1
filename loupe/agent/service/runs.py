"""One run of the service (an ask or a program run): its events as they happen, its result, its images.

A ``Run`` is written by the worker thread that runs it and read by request handlers: events are kept
(so a late subscriber sees them all) and pushed to subscribers' asyncio queues. ``RunStore`` keeps runs
until they expire (``ttl_s`` after they finish, and at most ``max_runs``), then drops them.

Approval is one ``Approval`` per decision, bound to the exact program text it shows (its SHA-256): a
replanned program, or SayCan's next editing step, is a new ``Approval`` that waits for its own decision;
a decision names the program it approves, and one for another program is refused. ``Run.cancel`` (a
request past its limit, a disconnected client, a rejected edit) is seen by the run between steps and LLM
calls (``RunCancelled``) and wakes a pending approval.

A run is also the LLM layer's ``Budget`` (``loupe.agent.llm.base.within``): ``remaining()`` is what is left of
its request's time limit (``deadline``), ``check()`` its cancellation, so an LLM call made for the run
(its tries, its waits, the embedded model's decoding) ends within the request's limit.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
import hashlib
import threading
import time
from typing import Any

from loupe.programs.trace import Execution, StepRecord
from loupe.programs.values import Image, Objects

TERMINAL = ("ok", "failed", "invalid_program", "rejected", "timed_out", "cancelled", "error")


class RunCancelled(BaseException):
    """Raised in a run's own threads (before a tool call or an LLM call) once the run is cancelled.

    A ``BaseException``, like ``asyncio.CancelledError``: the agent's and the interpreter's ``except
    Exception`` handlers (a crashed step, a failed LLM call) must not turn it into a step failure and go on.
    """


def time_limit_message(seconds: float) -> str:
    return f"the request ran past its time limit of {seconds:g} s"


def program_sha256(program: str) -> str:
    return hashlib.sha256(program.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Approval:
    """One decision a person is asked for: run this exact ``program`` (its ``edits``), yes or no."""

    id: str
    program: str
    edits: list[str]
    sha256: str
    created: float = field(default_factory=time.time)
    decision: bool | None = None
    woken: threading.Event = field(default_factory=threading.Event)

    @property
    def decided(self) -> bool:
        return self.decision is not None


@dataclass
class Run:
    """``kind``: ask | run. ``status``: queued, running, awaiting_approval, then one of ``TERMINAL``."""

    id: str
    kind: str
    query: str = ""
    mode: str = ""
    llm: str = ""
    status: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    events: list[dict] = field(default_factory=list)
    records: dict[str, StepRecord] = field(default_factory=dict)   # by output name, as they run
    result: dict | None = None
    execution: Execution | None = None
    image: Image | None = None
    video: Any = None                     # an ask about a video: the input ``Video``, its name, the answer
    saycan: Any = None
    require_approval: bool = False
    client: str = ""
    pending: Approval | None = None       # the decision asked for now, if any
    approvals: list[Approval] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    cancel_status: str = ""               # timed_out | cancelled | rejected: what the run ends as
    cancel_reason: str = ""
    deadline: float | None = None         # time.monotonic() when the request's time limit passes
    limit_s: float = 0.0                  # that limit, in seconds
    holds_slot: bool = False              # (the engine's) whether it holds a worker slot now
    slot_since: float = 0.0
    work_s: float = 0.0                   # time spent holding a worker slot (approval waits excluded)
    context: dict = field(default_factory=dict)   # keys every result of the run carries, a failed one too
    _subscribers: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def publish(self, event: dict) -> None:
        """Keep ``event`` and push it to every subscriber (from any thread)."""
        with self._lock:
            self.events.append(event)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def subscribe(self) -> asyncio.Queue:
        """An asyncio queue holding every event so far, then each new one (call from the event loop)."""
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:
            for event in self.events:
                queue.put_nowait(event)
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = [(loop, q) for loop, q in self._subscribers if q is not queue]

    def ask_approval(self, program: str, edits: list[str]) -> Approval:
        """A new decision for exactly ``program``; it replaces nothing (one is asked at a time)."""
        import uuid

        approval = Approval(uuid.uuid4().hex, program, list(edits), program_sha256(program))
        with self._lock:
            self.pending = approval
            self.approvals.append(approval)
        if self.cancelled.is_set():
            approval.woken.set()
        return approval

    def decide(self, approved: bool, sha256: str | None = None) -> Approval | None:
        """Decide the pending approval, if it is still pending and (when ``sha256`` is given) shows that
        program; returns it, or None (nothing pending, or another program is pending)."""
        with self._lock:
            approval = self.pending
            if approval is None or approval.decided or (sha256 is not None and sha256 != approval.sha256):
                return None
            approval.decision = approved
            self.pending = None
        approval.woken.set()
        return approval

    def end_approval(self, approval: Approval) -> None:
        """The gate stopped waiting for ``approval`` (decided, expired or cancelled)."""
        with self._lock:
            if self.pending is approval:
                self.pending = None

    def is_current(self, event: dict) -> bool:
        """Whether ``event`` (an ``approval_required``) still waits for a decision."""
        pending = self.pending
        return pending is not None and not pending.decided and event.get("approval_id") == pending.id

    def cancel(self, status: str, reason: str) -> bool:
        """Ask the run to stop (its threads raise ``RunCancelled`` at their next check); the first
        cancellation's status is kept. False when the run had already finished or been cancelled."""
        with self._lock:
            if self.done or self.cancelled.is_set():
                return False
            self.cancel_status, self.cancel_reason = status, reason
            self.cancelled.set()
            pending = self.pending
        if pending is not None:
            pending.woken.set()
        return True

    def check(self) -> None:
        """Raise ``RunCancelled`` when the run was cancelled or its request's time limit has passed (then
        it ends ``timed_out``, whether or not a client is still waiting); called between steps, LLM calls
        and tries, and while queued."""
        if self.remaining() <= 0:
            self.cancel("timed_out", time_limit_message(self.limit_s))
        if self.cancelled.is_set():
            raise RunCancelled(self.cancel_reason)

    def limit(self, seconds: float) -> None:
        """The request's time limit runs from now (at admission, and again once an edit is decided)."""
        self.limit_s, self.deadline = seconds, time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left of the request's time limit (``inf`` when none was set)."""
        return float("inf") if self.deadline is None else max(0.0, self.deadline - time.monotonic())


class RunStore:
    """Runs by id; finished runs expire ``ttl_s`` after they finish; at most ``max_runs`` kept."""

    def __init__(self, ttl_s: float, max_runs: int):
        self.ttl_s, self.max_runs = ttl_s, max_runs
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, run: Run) -> Run:
        with self._lock:
            self._expire()
            self._runs[run.id] = run
        return run

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            self._expire()
            return self._runs.get(run_id)

    def __len__(self) -> int:
        return len(self._runs)

    def matching(self, predicate) -> list[Run]:
        with self._lock:
            return [run for run in self._runs.values() if predicate(run)]

    def _expire(self) -> None:
        """Drop runs finished more than ``ttl_s`` ago, then the longest finished while more than
        ``max_runs`` are kept (by finishing time, not by start: a run that worked or waited long is kept as
        long as any other after it finishes, not dropped the moment it does)."""
        now = time.time()
        for run_id in [i for i, r in self._runs.items() if r.finished and now - r.finished > self.ttl_s]:
            self._drop(run_id)
        finished = sorted((r.finished, i) for i, r in self._runs.items() if r.finished)
        for _, run_id in finished[:max(0, len(self._runs) - self.max_runs)]:
            self._drop(run_id)

    def _drop(self, run_id: str) -> None:
        """Forget a run, and remove the files it kept (an uploaded video, an edited one)."""
        run = self._runs.pop(run_id)
        if run.video is not None:
            run.video.discard()


def step_thumbnail(record: StepRecord) -> Image | None:
    """What the rationale shows for a step's output: the image it made, or its objects drawn on its input."""
    value, image = record.value, record.inputs.get("image")
    if isinstance(value, Image):
        return value
    if isinstance(value, Objects) and isinstance(image, Image) and tuple(value.image_size) in ((0, 0), image.size):
        from loupe.tools.drawing import draw_objects

        return draw_objects(image, value, scores=True)
    return None


async def settled(run: Run, timeout_s: float) -> dict | None:
    """The run's ``done`` event, or its ``approval_required`` while undecided; None past ``timeout_s``."""
    queue = run.subscribe()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        while True:
            event = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
            if event["event"] == "done" or (event["event"] == "approval_required" and run.is_current(event)):
                return event
    except asyncio.TimeoutError:
        return None
    finally:
        run.unsubscribe(queue)
