"""Latency targets that used to be timed assertions in tests (issue 10 moved them here):

* example retrieval: one ``ExampleRetriever.top(query, k=6)`` over the program library, target < 5 ms;
* a remote LLM that never answers in time: ``complete`` with ``timeout=0.2`` s and 2 attempts (the back-off
  sleep recorded, not slept) against a loopback server that answers after 1 s, target < 1.5 s wall.

Usage: python3 bench/bench_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import threading
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]


def retrieval_ms(runs: int) -> list[float]:
    """Mean ms per query of 200 queries, once per run (index built and warmed first)."""
    from loupe.agent.planning.retrieval import ExampleRetriever
    from loupe.programs.examples_library import load_library

    retriever = ExampleRetriever(load_library())
    retriever.top("warm up")
    queries = ["how many cats", "blur all faces", "is the cup left of the laptop", "make the bus pop"] * 50
    means = []
    for _ in range(runs):
        started = time.perf_counter()
        for query in queries:
            retriever.top(query, k=6)
        means.append((time.perf_counter() - started) / len(queries) * 1000)
    return means


def llm_timeout_s(runs: int) -> list[float]:
    """Wall seconds until a never-in-time server gives up: 2 attempts x 0.2 s timeout."""
    from loupe.agent.llm import LLMError
    from loupe.agent.llm.openai_provider import OpenAICompatible
    from openai_server import ScriptedServer, chat

    server = ScriptedServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    server.always("/chat/completions", chat("late"), delay=1.0)
    walls = []
    try:
        for _ in range(runs):
            llm = OpenAICompatible("m", provider="bench", base_url=server.url, sleep=lambda s: None, timeout=0.2,
                                   max_attempts=2)
            started = time.monotonic()
            try:
                llm.complete("hi")
            except LLMError:
                pass
            walls.append(time.monotonic() - started)
    finally:
        server.shutdown()
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    retrieval, timeout = retrieval_ms(args.runs), llm_timeout_s(args.runs)
    print("| what | target | median | worst |")
    print("|---|---|---:|---:|")
    print(f"| retrieval, ms per query (k=6) | < 5 ms | {statistics.median(retrieval):.2f} | {max(retrieval):.2f} |")
    print(f"| LLM never answers in time: 2 x 0.2 s timeout, s | < 1.5 s | {statistics.median(timeout):.2f} | "
          f"{max(timeout):.2f} |")


if __name__ == "__main__":
    main()
