"""One run of the service (an ask or a program run): its events as they happen, its result, its images.

A ``Run`` is written by the worker thread that runs it and read by request handlers: events are kept
(so a late subscriber sees them all) and pushed to subscribers' asyncio queues. ``RunStore`` keeps runs
until they expire (``ttl_s`` after they finish, and at most ``max_runs``), then drops them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
import threading
import time
from typing import Any

from programs.trace import Execution, StepRecord
from programs.values import Image, Objects

TERMINAL = ("ok", "failed", "invalid_program", "rejected", "timed_out", "error")


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
    saycan: Any = None
    require_approval: bool = False
    decision: bool | None = None
    decided: threading.Event = field(default_factory=threading.Event)
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

    def decide(self, approved: bool) -> None:
        self.decision = approved
        self.decided.set()


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

    def _expire(self) -> None:
        now = time.time()
        for run_id in [i for i, r in self._runs.items() if r.finished and now - r.finished > self.ttl_s]:
            del self._runs[run_id]
        finished = [i for i, r in self._runs.items() if r.finished]
        while len(self._runs) > self.max_runs and finished:
            del self._runs[finished.pop(0)]


def step_thumbnail(record: StepRecord) -> Image | None:
    """What the rationale shows for a step's output: the image it made, or its objects drawn on its input."""
    value, image = record.value, record.inputs.get("image")
    if isinstance(value, Image):
        return value
    if isinstance(value, Objects) and isinstance(image, Image) and tuple(value.image_size) in ((0, 0), image.size):
        from tools.drawing import draw_objects

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
            if event["event"] == "done" or (event["event"] == "approval_required" and run.decision is None):
                return event
    except asyncio.TimeoutError:
        return None
    finally:
        run.unsubscribe(queue)
