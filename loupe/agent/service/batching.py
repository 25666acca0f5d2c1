"""Cross-request batching: the same tool's calls from different requests share one batched forward.

Each request runs its program in its own thread; the interpreter hands a batching tool's ready calls to
``execute_batch``. Here that call is queued instead: one dispatcher thread per tool waits up to
``window_s`` (only while other runs are in flight) for calls of other requests, then runs everything
queued as one ``execute_batch`` and hands each request its own results, in order. Calls arriving while
a batch runs wait for the next one, so under load batches grow by themselves (ViperGPT batches so).

Identical images from different requests (the same photo uploaded twice) are made one object before
the batch runs, so the lite models, which cache and deduplicate per image object, run them once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
import threading
import time
from typing import Any, Callable, Mapping, Sequence

from loupe.programs.values import Image
from loupe.tools.registry import ToolRegistry


@dataclass
class _Pending:
    calls: list[Mapping[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    results: list = field(default_factory=list)


@dataclass
class BatchStats:
    """Counters for /v1/health: batches run and calls in them (calls/batches = mean batch size)."""

    batches: int = 0
    calls: int = 0
    requests: int = 0   # execute_batch calls merged (one per request step group)


class Coalescer:
    """Merges ``execute_batch`` calls of one tool from many threads into shared batches.

    ``busy()``: True while more than one run is in flight (else a call is dispatched at once, so a lone
    request never waits for the window).
    """

    def __init__(self, window_s: float = 0.01, max_batch: int = 32, busy: Callable[[], bool] = lambda: True):
        self.window_s, self.max_batch, self.busy = window_s, max_batch, busy
        self.stats = BatchStats()
        self._queues: dict[str, list[_Pending]] = {}
        self._tools: dict[str, Any] = {}
        self._cond = threading.Condition()

    def run(self, tool, calls: Sequence[Mapping[str, Any]]) -> list:
        """Called by an interpreter thread: blocks until this request's calls ran (in some batch)."""
        pending = _Pending(list(calls))
        with self._cond:
            if tool.name not in self._queues:
                self._queues[tool.name], self._tools[tool.name] = [], tool
                threading.Thread(target=self._dispatch, args=(tool.name,), daemon=True,
                                 name=f"loupe-batch-{tool.name}").start()
            self._queues[tool.name].append(pending)
            self._cond.notify_all()
        pending.done.wait()
        return pending.results

    def _dispatch(self, name: str) -> None:
        while True:
            group = self._take(name)
            calls = [call for pending in group for call in pending.calls]
            try:
                results = list(self._tools[name].execute_batch(_same_images_shared(calls)))
            except Exception as error:  # a crash of the batch fails each of its calls
                results = [error] * len(calls)
            if len(results) != len(calls):
                results = [RuntimeError(f"{name} returned {len(results)} results for {len(calls)} calls")] * len(calls)
            with self._cond:
                self.stats.batches += 1
                self.stats.calls += len(calls)
                self.stats.requests += len(group)
            start = 0
            for pending in group:
                pending.results = results[start:start + len(pending.calls)]
                start += len(pending.calls)
                pending.done.set()

    def _take(self, name: str) -> list[_Pending]:
        """Wait for a first call, then up to the window (when other runs are in flight) for more."""
        queue = self._queues[name]
        with self._cond:
            while not queue:
                self._cond.wait()
            deadline = time.monotonic() + (self.window_s if self.busy() else 0.0)
            while _count(queue) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            group, size = [], 0
            while queue and (not group or size + len(queue[0].calls) <= self.max_batch):
                size += len(queue[0].calls)
                group.append(queue.pop(0))
            return group


def _count(queue: list[_Pending]) -> int:
    return sum(len(p.calls) for p in queue)


def _same_images_shared(calls: list[Mapping[str, Any]]) -> list[dict]:
    """The calls with equal images (same pixels) replaced by one ``Image`` object; ``[H, W, 3]`` hashed once
    per object (blake2b of the pixel bytes)."""
    by_id: dict[int, Image] = {}
    by_digest: dict[tuple, Image] = {}
    shared = []
    for call in calls:
        new = dict(call)
        for key, value in call.items():
            if isinstance(value, Image):
                if id(value) not in by_id:
                    digest = (value.pixels.shape, hashlib.blake2b(value.pixels.tobytes(), digest_size=16).digest())
                    by_id[id(value)] = by_digest.setdefault(digest, value)
                new[key] = by_id[id(value)]
        shared.append(new)
    return shared


class _CoalescedTool:
    """A tool whose ``execute_batch`` first calls ``check`` (which may raise to stop the run), then goes
    through the coalescer (or, for a cheap or non-batching tool, ``coalescer`` None, to the tool itself);
    everything else is the tool's own."""

    def __init__(self, tool, coalescer: Coalescer | None, check: Callable[[], None] = lambda: None):
        self._tool, self._coalescer, self._check = tool, coalescer, check

    def __getattr__(self, name):
        return getattr(self._tool, name)

    def execute_batch(self, calls):
        self._check()
        if self._coalescer is None:
            return self._tool.execute_batch(calls)
        return self._coalescer.run(self._tool, calls)


class CoalescingRegistry(ToolRegistry):
    """The tools of ``base`` (same classes, same context and models), batching tools coalesced.
    ``check()`` is called before every tool call (the service's cancellation check: it raises)."""

    def __init__(self, base: ToolRegistry, coalescer: Coalescer, check: Callable[[], None] = lambda: None):
        super().__init__(base.context)
        for name in base.names():
            self.register(base.tool_class(name))
        self.coalescer = coalescer
        self._check = check
        self._wrapped: dict[str, Any] = {}

    def tool(self, name: str):
        tool = super().tool(name)
        coalescer = None if tool.cheap or not tool.batches() else self.coalescer
        with self._lock:
            wrapped = self._wrapped.get(name)
            if wrapped is None or wrapped._tool is not tool:
                wrapped = self._wrapped[name] = _CoalescedTool(tool, coalescer, self._check)
            return wrapped

    __getitem__ = tool
