"""The same questions in all three planning modes, and cold `loupe ask` timings per mode.

    python3 bench/bench_modes.py [--questions ../shared/bench/questions.jsonl] [--images ../shared/data/images]
                                 [--modes program,tasks,saycan] [--every 1] [--out bench-modes-out]
                                 [--cold-runs 3] [--skip-eval] [--skip-cold] [--python /tmp/venv/bin/python]

Eval: the visible items the lite tier can answer (``needs`` within coco, face, person_seg, ocr,
two_images; every ``--every``-th of them), run with ``loupe eval`` (embedded SmolLM2, cold: no program
cache) once per mode, the modes in parallel processes; accuracy and p50/p95 latency per mode.

Cold: ``loupe ask PHOTO QUESTION --mode M --no-cache --json`` as a new process per run (process start
to answer: imports, model loads, planning, tools), on tests/data/photos/dog.jpg (1 dog, 1 bicycle, 1
truck) for one-, two- and three-object questions; wall time and the process's CPU time (user + sys), the
LLM passes and the answer of each run. ``--python``: the interpreter to run them with (a venv with only
the README's main install, as a new user has).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LITE_NEEDS = {"coco", "face", "person_seg", "ocr", "two_images"}
DOG = ROOT / "tests" / "data" / "photos" / "dog.jpg"
COLD_QUESTIONS = (("How many dogs are there?", "1"), ("How many horses and dogs are there in total?", "1"),
                  ("Is there a bicycle or a car next to the dog?", "yes"))


def lite_items(questions: Path, every: int) -> list[str]:
    """The lite-answerable lines of the benchmark, every ``every``-th one."""
    lines = [line for line in questions.read_text().splitlines() if line.strip()]
    lite = [line for line in lines if set(json.loads(line).get("needs", [])) <= LITE_NEEDS]
    return lite[::every]


def run_evals(args, modes: list[str]) -> dict[str, dict]:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    subset = out / "questions.jsonl"
    subset.write_text("\n".join(lite_items(Path(args.questions), args.every)) + "\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {mode: subprocess.Popen([sys.executable, "-m", "loupe.agent.cli", "eval", str(subset), "--images", args.images,
                                     "--mode", mode, "--llm", "local", "--out", str(out / mode), "--quiet"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for mode in modes}
    for mode, proc in procs.items():
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"{mode}: eval failed:\n{err.decode()[-2000:]}", file=sys.stderr)
    return {mode: json.loads((out / mode / "summary.json").read_text()) for mode in modes
            if (out / mode / "summary.json").is_file()}


def cold_ask(mode: str, question: str, python: str = sys.executable) -> tuple[float, float, str, object]:
    """One `loupe ask` process: (wall s, CPU s, answer, LLM passes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([python, "-m", "loupe.agent.cli", "ask", str(DOG), question, "--mode", mode, "--no-cache",
                           "--json"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        reply = json.loads(done.stdout)
        answer, calls = reply.get("answer") or reply.get("status"), reply.get("llm_calls")
    except ValueError:
        answer, calls = f"exit {done.returncode}", None
    return wall, cpu, str(answer), calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(ROOT.parent.parent / "shared/bench/questions.jsonl"))
    parser.add_argument("--images", default=str(ROOT.parent.parent / "shared/data/images"))
    parser.add_argument("--modes", default="program,tasks,saycan")
    parser.add_argument("--every", type=int, default=1, help="take every N-th lite item")
    parser.add_argument("--out", default="bench-modes-out")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the cold runs")
    args = parser.parse_args()
    modes = args.modes.split(",")
    if not args.skip_eval:
        summaries = run_evals(args, modes)
        print("| mode | items | accuracy | valid programs | p50 s | p95 s | LLM calls |")
        print("|---|---|---|---|---|---|---|")
        for mode, s in summaries.items():
            print(f"| {mode} | {s['items']} | {s['accuracy']:.1%} | {s['valid_program_rate']:.1%} | "
                  f"{s['latency_s']['p50']:.1f} | {s['latency_s']['p95']:.1f} | {s['llm_calls']} |")
    if not args.skip_cold:
        print("\n| mode | question | wall s (runs) | median wall s | CPU s (runs) | LLM passes | answers (expected) |")
        print("|---|---|---|---|---|---|---|")
        for mode in [m for m in modes if m != "program"] or modes:
            for question, expected in COLD_QUESTIONS:
                runs = [cold_ask(mode, question, args.python) for _ in range(args.cold_runs)]
                print(f"| {mode} | {question} | {', '.join(f'{r[0]:.1f}' for r in runs)} | "
                      f"{statistics.median(r[0] for r in runs):.1f} | {', '.join(f'{r[1]:.1f}' for r in runs)} | "
                      f"{runs[0][3]} | {', '.join(r[2] for r in runs)} ({expected}) |", flush=True)


if __name__ == "__main__":
    main()
