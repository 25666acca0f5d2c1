"""The Ray engine: ``workers`` actors, each building the worker from the spec once — so each actor
holds one loaded copy of the models (tool backends and LLM) — and items spread over them (data
parallelism). Results come back in payload order, identical to the local engine's.

Starts a local Ray instance (``num_cpus = workers``) unless one is running or ``address`` is given.
Workers get the driver's ``sys.path`` through ``PYTHONPATH``, so specs naming ``module:function``
resolve in the actors as they do here.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

from loupe.programs.errors import ToolUnavailable
from loupe.tools.install import pip_extra


class _Actor:
    def __init__(self, spec):
        self.worker = spec.build()

    def ready(self) -> bool:
        return True

    def run(self, index: int, payload):
        return index, self.worker(payload)


class RayEngine:
    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None, local_mode: bool = False):
        try:
            import ray
        except ImportError:
            raise ToolUnavailable(f"the ray engine needs Ray: {pip_extra('ray')}") from None
        self.ray, self.workers = ray, max(1, int(workers))
        self._started = False
        if not ray.is_initialized():
            paths = [p for p in sys.path if p and os.path.isdir(p)]
            env = {"PYTHONPATH": os.pathsep.join(paths)}
            ray.init(address=address, num_cpus=None if address else self.workers, include_dashboard=False,
                     log_to_driver=False, local_mode=local_mode, runtime_env={"env_vars": env})
            self._started = True

    def map(self, spec, payloads: Sequence[Any], on_result: Callable[[int, Any], None] | None = None,
            on_start: Callable[[], None] | None = None) -> list:
        """``on_start`` is called once every actor has built its worker (models loaded)."""
        if not payloads:
            return []
        ray = self.ray
        actor_class = ray.remote(num_cpus=1)(_Actor)
        actors = [actor_class.remote(spec) for _ in range(min(self.workers, len(payloads)))]
        ray.get([actor.ready.remote() for actor in actors])
        if on_start:
            on_start()
        results: list = [None] * len(payloads)
        pending, queue = {}, list(enumerate(payloads))
        try:
            for actor in actors:  # one item in flight per actor; the next goes to whichever finishes
                if queue:
                    index, payload = queue.pop(0)
                    pending[actor.run.remote(index, payload)] = actor
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                actor = pending.pop(done[0])
                index, result = ray.get(done[0])
                results[index] = result
                if on_result:
                    on_result(index, result)
                if queue:
                    next_index, payload = queue.pop(0)
                    pending[actor.run.remote(next_index, payload)] = actor
        finally:
            for actor in actors:
                ray.kill(actor)
        return results

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()
            self._started = False
