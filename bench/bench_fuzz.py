"""Fuzz the readers of programs with >= 1M generated inputs (issue 10): lexer, VisProg parser, task-list
reader, checker and EVAL must raise only their typed errors, with bounded messages, in bounded time.

Usage: python3 bench/bench_fuzz.py [--inputs 1000000] [--seed 0] [--atheris-runs 200000]

Part 1 (always): ``--inputs`` inputs split evenly over the targets, made by tests/support/fuzz_targets.py
(mutated library programs and task lists, well-formed random programs and EVAL expressions, random token
strings); per target: inputs, accepted, typed errors, contract breaks, p99 and max ms per input, largest
message. Part 2 (when ``atheris`` is installed and ``--atheris-runs`` > 0): coverage-guided libFuzzer runs
of each target, seeded with the same real programs, each in its own process. Exit 1 on any break.
"""

from __future__ import annotations

import argparse
from array import array
import os
from pathlib import Path
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]


def generated_run(total: int, seed: int, targets: list[str]) -> tuple[list[dict], list[str]]:
    """Rows per target and the contract breaks found (at most 20 kept)."""
    import fuzz_targets

    rng, rows, breaks = random.Random(seed), [], []
    fuzz_targets.registry()  # built once, before any timing
    per_target = total // len(targets)
    for target in targets:
        outcomes, times, biggest = {"ok": 0, "error": 0, "broken": 0}, array("d"), 0
        for _ in range(per_target):
            text = fuzz_targets.generated(target, rng)
            started = time.perf_counter()
            try:
                outcomes[fuzz_targets.run(target, text)] += 1
            except fuzz_targets.Broken as error:
                outcomes["broken"] += 1
                if len(breaks) < 20:
                    breaks.append(str(error)[:300])
            times.append((time.perf_counter() - started) * 1000)
            biggest = max(biggest, len(text))
        ordered = sorted(times)
        rows.append({"target": target, "inputs": per_target, **outcomes, "p99_ms": ordered[int(0.99 * len(ordered))],
                     "max_ms": ordered[-1], "longest_input": biggest})
        print(f"  {target}: {outcomes} max {ordered[-1]:.1f} ms", file=sys.stderr, flush=True)
    return rows, breaks


def atheris_child(target: str, runs: int) -> None:
    """Run inside its own process: libFuzzer over ``target``, seeded with the real programs."""
    import atheris

    with atheris.instrument_imports(include=["programs"]):
        import fuzz_targets

    corpus = Path(tempfile.mkdtemp(prefix="loupe-fuzz-"))
    for index, seed in enumerate(fuzz_targets.seeds()[target]):
        # the provider's first byte picks the text's encoding: 0 means one byte per character (ASCII)
        (corpus / f"seed{index}").write_bytes(b"\0" + seed.encode("ascii", "replace"))

    def one_input(data: bytes) -> None:
        text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(4096)
        fuzz_targets.run(target, text)

    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=4096", "-timeout=10", str(corpus)], one_input)
    atheris.Fuzz()


def atheris_run(runs: int) -> list[dict]:
    import fuzz_targets

    rows = []
    for target in fuzz_targets.TARGETS:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--atheris-target", target, "--atheris-runs", str(runs)],
                              capture_output=True, text=True, cwd=ROOT)
        count = re.search(r"Done (\d+) runs", done.stderr)
        coverage = re.findall(r"cov: (\d+)", done.stderr)
        rows.append({"target": target, "runs": int(count.group(1)) if count else 0, "exit": done.returncode,
                     "coverage": int(coverage[-1]) if coverage else 0, "seconds": time.perf_counter() - started})
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)
        print(f"  atheris {target}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atheris-runs", type=int, default=200_000, help="libFuzzer runs per target (0: skip)")
    parser.add_argument("--targets", default="", help="comma-separated subset (lexer,parser,task lists,checker,EVAL)")
    parser.add_argument("--atheris-target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.atheris_target:
        atheris_child(args.atheris_target, args.atheris_runs)
        return 0
    started = time.perf_counter()
    import fuzz_targets

    targets = [t.strip() for t in args.targets.split(",") if t.strip()] or list(fuzz_targets.TARGETS)
    rows, breaks = generated_run(args.inputs, args.seed, targets) if args.inputs > 0 else ([], [])
    print(f"generated inputs, seed {args.seed}, {time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs\n")
    print("| target | inputs | accepted | typed errors | contract breaks | p99 ms | max ms | longest input |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['target']} | {r['inputs']:,} | {r['ok']:,} | {r['error']:,} | {r['broken']} | "
              f"{r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['longest_input']} |")
    print(f"| **total** | **{sum(r['inputs'] for r in rows):,}** | | | **{sum(r['broken'] for r in rows)}** | | | |")
    failed = bool(breaks)
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("\natheris is not installed: coverage-guided part skipped (pip install atheris)")
        args.atheris_runs = 0
    if args.atheris_runs:
        fuzzed = atheris_run(args.atheris_runs)
        print("\n| target (atheris, coverage-guided) | runs | coverage (edges) | exit | seconds |")
        print("|---|---:|---:|---:|---:|")
        for r in fuzzed:
            print(f"| {r['target']} | {r['runs']:,} | {r['coverage']} | {r['exit']} | {r['seconds']:.0f} |")
        failed = failed or any(r["exit"] for r in fuzzed)
    for line in breaks:
        print("BROKEN:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
