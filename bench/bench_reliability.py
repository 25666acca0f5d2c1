"""Reliability under attack and faults (issue 10): how fast each known hole now closes.

    python3 bench/bench_reliability.py        # prints a markdown table (about a minute on 2 cores)

Rows: the EVAL growth attack (five lines each multiplying a 399-digit number by itself 150 times) run by
the interpreter with a 2 s step limit; ``loupe ask`` against a loopback OpenAI-compatible server that
never answers (``--llm-timeout 5``), that answers 429 + ``Retry-After: 2`` once, and that always
answers 500; a 24 KB question; temporary image folders left behind by 20 edits through ``Agent``.
The CLI rows are real subprocesses, so they include Python's and Loupe's start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "tests" / "support"
sys.path[:0] = [str(ROOT), str(SUPPORT)]

from openai_server import HANG, ScriptedServer, chat, error_body  # noqa: E402
from loupe.tools.settings import Settings  # noqa: E402

PROGRAM = "BOX0=LOC(image=IMAGE,object='tie')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"


def eval_growth() -> tuple[float, str]:
    from loupe.programs.interpreter import Interpreter
    from loupe.tools.registry import default_registry

    big = "9" * 399
    lines = [f"N0=EVAL(expr='{big}')"] + [f"N{i}=EVAL(expr='{{N{i - 1}}}" + f" * {{N{i - 1}}}" * 150 + "')"
                                          for i in range(1, 6)]
    start = time.perf_counter()
    execution = Interpreter(default_registry(Settings.from_env(), plugins=False), step_timeout_s=2).run("\n".join(lines + ["R=RESULT(var=N5)"]), {})
    return time.perf_counter() - start, execution.errors[0][:70]


def cli_ask(url: str, photo: Path, question: str = "How many ties are there?", *extra) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(SUPPORT)]), "LOUPE_PLUGINS": "cli_plugin:setup"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "loupe.agent.cli", "ask", str(photo), question, "--llm", url,
                             "--no-cache", "--quiet", *extra], capture_output=True, text=True, env=env, timeout=600)
    line = (result.stderr.strip().splitlines() or [result.stdout.strip()])[-1]
    return time.perf_counter() - start, result.returncode, line[:90]


def leftover_folders(photo: Path, runs: int = 20) -> tuple[float, int]:
    from loupe.agent.api import Agent
    from fake_llm import FakeLLM
    from loupe.tools.registry import default_registry
    from cli_plugin import InstantLoc

    pop = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)"
    before = set(Path(tempfile.gettempdir()).glob("loupe-images-*"))
    start = time.perf_counter()
    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(InstantLoc)
    for _ in range(runs):
        with Agent(llm=FakeLLM().enqueue(pop), registry=registry, use_cache=False) as agent:
            agent.ask(str(photo), "pop the tie")
    return time.perf_counter() - start, len(set(Path(tempfile.gettempdir()).glob("loupe-images-*")) - before)


def main() -> None:
    from PIL import Image as PILImage

    folder = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    photo = folder / "photo.png"
    PILImage.fromarray(np.full((40, 60, 3), 100, np.uint8)).save(photo)
    server = ScriptedServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rows = []
    seconds, error = eval_growth()
    rows.append(("EVAL growth, 5 lines x 150 products of a 399-digit number (was > 150 s)", seconds, "-", error))
    server.always("/chat/completions", HANG)
    rows.append(("ask, server never answers, --llm-timeout 5 (was 4 x 60 s)", *cli_ask(server.url, photo, "How many ties are there?", "--llm-timeout", "5")))
    server.enqueue("/chat/completions", error_body("slow down"), status=429, headers={"Retry-After": "2"})
    server.always("/chat/completions", chat(PROGRAM))
    rows.append(("ask, 429 + Retry-After: 2, then the program", *cli_ask(server.url, photo)))
    server.always("/chat/completions", error_body("boom"), status=500)
    rows.append(("ask, HTTP 500 on every try", *cli_ask(server.url, photo)))
    rows.append(("ask, a 24 KB question (was 174 s)", *cli_ask(server.url, photo, "how many ties? " * 1640)))
    seconds, left = leftover_folders(photo)
    rows.append(("20 edits through Agent (with): temp image folders left", seconds, "-", f"{left} left (was 20)"))
    server.stopping.set()
    server.shutdown()
    print("| case | wall s | exit | outcome |\n|---|---|---|---|")
    for case, wall, code, outcome in rows:
        print(f"| {case} | {wall:.2f} | {code} | {str(outcome).replace('|', '/')} |")


if __name__ == "__main__":
    main()
