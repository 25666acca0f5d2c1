"""The local engine: one worker built once (models load once), ``workers`` threads feeding it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Callable, Sequence


class LocalEngine:
    name = "local"

    def __init__(self, workers: int = 1):
        self.workers = max(1, int(workers))

    def map(self, spec, payloads: Sequence[Any], on_result: Callable[[int, Any], None] | None = None,
            on_start: Callable[[], None] | None = None) -> list:
        """``on_start`` is called once the worker is built (models loaded), before the first item."""
        worker = spec.build()
        if on_start:
            on_start()
        results: list = [None] * len(payloads)
        if self.workers == 1:
            for index, payload in enumerate(payloads):
                results[index] = worker(payload)
                if on_result:
                    on_result(index, results[index])
            return results
        with ThreadPoolExecutor(self.workers, thread_name_prefix="loupe-item") as pool:
            futures = {pool.submit(worker, payload): index for index, payload in enumerate(payloads)}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if on_result:
                    on_result(index, results[index])
        return results

    def close(self) -> None:
        pass
