"""Load on ``loupe serve``: many concurrent clients vs the same requests one at a time.

    python3 bench/bench_service.py [--requests 200] [--clients 50]      # needs `loupe models pull`

Starts ``python -m loupe.agent.cli serve`` on 127.0.0.1 (a free port) with a scripted planner
(``oracle:bench/service_programs.jsonl``: the planner's speed is not what is measured here), then sends
REQUESTS asks over a few photos and questions: first one at a time, then from CLIENTS concurrent
clients. Every answer must equal the one-at-a-time answer of its own (photo, question), and every
request must get one (nothing lost). Reports throughput, p50/p95 latency, the server's resident memory
(start, peak) and how many model calls the server's cross-request batching merged.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import json
import os
from pathlib import Path
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ROOT / "tests" / "data" / "photos"
ORACLE = ROOT / "bench" / "service_programs.jsonl"
QUESTIONS = ["How many people are in the picture?", "Count the horses.", "Is there a dog here?"]


def workload(count: int, seed: int = 0, photos: Path = PHOTOS) -> list[tuple[str, str]]:
    """``count`` (photo file, question) pairs cycling over every photo x question, in a seeded order."""
    pairs = [(str(p), q) for p in sorted(photos.glob("*.jpg")) for q in QUESTIONS]
    items = [pairs[i % len(pairs)] for i in range(count)]
    random.Random(seed).shuffle(items)
    return items


def ask(client, url: str, photo: str, question: str) -> tuple[dict, float]:
    """One ask; returns (the JSON body or an ``error`` dict, seconds)."""
    start = time.perf_counter()
    try:
        with open(photo, "rb") as file:
            response = client.post(url + "/v1/ask", data={"query": question},
                                   files={"image": (Path(photo).name, file.read(), "image/jpeg")}, timeout=300)
        body = response.json() if response.status_code == 200 else {"error": f"HTTP {response.status_code}"}
    except Exception as error:  # a lost request is counted, not raised
        body = {"error": f"{type(error).__name__}: {error}"}
    return body, time.perf_counter() - start


def drive(url: str, items: list[tuple[str, str]], clients: int) -> dict:
    """Send ``items`` from ``clients`` concurrent clients; answers, latencies, wall time."""
    import httpx

    local = threading.local()

    def one(item):
        if not hasattr(local, "client"):
            local.client = httpx.Client()
        return ask(local.client, url, *item)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = list(pool.map(one, items))
    wall = time.perf_counter() - start
    return {"bodies": [b for b, _ in done], "latencies": [s for _, s in done], "wall_s": wall}


def check(items, bodies, expected: dict) -> dict:
    """Counts of lost requests, wrong answers and answers to another request's question."""
    lost = sum(1 for b in bodies if "error" in b or b.get("status") not in ("ok", "partial"))  # partial: answered
    wrong = sum(1 for item, b in zip(items, bodies) if "error" not in b and b.get("answer") != expected[item])
    mixed = sum(1 for (_, q), b in zip(items, bodies) if "error" not in b and b.get("query") != q)
    return {"lost": lost, "wrong": wrong, "mixed_up": mixed}


def summary(run: dict) -> dict:
    lat = sorted(run["latencies"])
    return {"requests": len(lat), "wall_s": round(run["wall_s"], 2),
            "throughput_rps": round(len(lat) / run["wall_s"], 2),
            "p50_ms": round(statistics.median(lat) * 1000, 1),
            "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))] * 1000, 1)}


class Server:
    """``python -m loupe.agent.cli serve`` in a subprocess; ``rss_mb()`` its resident memory."""

    def __init__(self, extra: list[str], llm: str = f"oracle:{ORACLE}"):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "loupe.agent.cli", "serve", "--port", str(port),
                                         "--llm", llm, "--no-cache", *extra], env=env, cwd=ROOT)
        self._wait()

    def _wait(self):
        import httpx

        for _ in range(600):
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError("the server did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def health(self) -> dict:
        import httpx

        return httpx.get(self.url + "/v1/health", timeout=10).json()

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


class PeakMemory:
    """Samples the server's RSS every 0.2 s while a phase runs."""

    def __init__(self, server: Server):
        self.server, self.peak, self._stop = server, 0.0, threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.server.rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--server-args", default="", help="extra `loupe serve` options, e.g. '--batch-window-ms 0'")
    parser.add_argument("--json", dest="json_out", help="also write the numbers to this file")
    args = parser.parse_args()
    server = Server(args.server_args.split())
    try:
        items = workload(args.requests)
        reference = drive(server.url, sorted(set(items)), 1)  # warm-up; each pair's answer, one at a time
        expected = {item: body.get("answer") for item, body in zip(sorted(set(items)), reference["bodies"])}
        rss_start = server.rss_mb()
        results = {}
        for name, clients in (("sequential", 1), ("concurrent", args.clients)):
            before = server.health()["batching"]
            with PeakMemory(server) as memory:
                run = drive(server.url, items, clients)
            after = server.health()["batching"]
            results[name] = {**summary(run), **check(items, run["bodies"], expected), "clients": clients,
                             "peak_rss_mb": round(memory.peak, 1),
                             "model_batches": after["batches"] - before["batches"],
                             "model_calls": after["calls"] - before["calls"]}
        results["speedup"] = round(results["concurrent"]["throughput_rps"] / results["sequential"]["throughput_rps"], 2)
        results["rss_after_warmup_mb"] = round(rss_start, 1)
        results["rss_end_mb"] = round(server.rss_mb(), 1)
        results["expected_answers"] = {f"{Path(p).name} | {q}": a for (p, q), a in expected.items()}
    finally:
        server.stop()
    print(json.dumps(results, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    print("\n| run | clients | requests/s | p50 ms | p95 ms | lost | wrong | model calls / batches | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ("sequential", "concurrent"):
        r = results[name]
        print(f"| {name} | {r['clients']} | {r['throughput_rps']} | {r['p50_ms']} | {r['p95_ms']} | {r['lost']} | "
              f"{r['wrong']} | {r['model_calls']} / {r['model_batches']} | {r['peak_rss_mb']} |")
    print(f"\nspeedup: {results['speedup']}x")


if __name__ == "__main__":
    main()
