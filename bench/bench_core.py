"""Overhead of the program core per step: parse, check, and schedule+run with no-op tools (no models).

    python3 bench/bench_core.py            # prints a markdown table

Programs are VisProg-shaped (LOC/COUNT/EVAL/... chains); the stand-in tools return at once, so the
times are the interpreter's own cost: argument resolution, type checks, scheduling, thread hand-offs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loupe.programs.checker import check  # noqa: E402
from loupe.programs.interpreter import Interpreter  # noqa: E402
from loupe.programs.parser import parse_program  # noqa: E402
from loupe.programs.values import Image, Obj, Objects, ValueType  # noqa: E402
from loupe.tools.base import Param, Tool  # noqa: E402
from loupe.tools.count import Count  # noqa: E402
from loupe.tools.evaluate import Eval  # noqa: E402
from loupe.tools.registry import ToolRegistry  # noqa: E402
from loupe.tools.result import Result  # noqa: E402


class InstantLoc(Tool):
    name = "LOC"
    description = "Stand-in locator that returns one box at once."
    inputs = {"image": Param(ValueType.IMAGE), "object": Param(ValueType.TEXT)}
    output = ValueType.OBJECTS

    def execute(self, image, object):
        return Objects((Obj((1, 1, 5, 5), object),), image.size)


def program(groups: int) -> str:
    """``groups`` x 5 steps (LOC, LOC, COUNT, COUNT, EVAL) + RESULT."""
    lines = []
    for g in range(groups):
        lines += [f"BOX{g}A=LOC(image=IMAGE,object='tie')", f"BOX{g}B=LOC(image=IMAGE,object='glasses')",
                  f"N{g}A=COUNT(box=BOX{g}A)", f"N{g}B=COUNT(box=BOX{g}B)",
                  f"ANSWER{g}=EVAL(expr=\"'yes' if {{N{g}A}} > 0 and {{N{g}B}} > 0 else 'no'\")"]
    lines.append(f"FINAL_RESULT=RESULT(var=ANSWER{groups - 1})")
    return "\n".join(lines)


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    registry = ToolRegistry()
    for cls in (InstantLoc, Count, Eval, Result):
        registry.register(cls)
    interpreter = Interpreter(registry, max_steps=1000)
    image = Image(np.zeros((64, 64, 3), np.uint8))
    print("| steps | parse ms/step | check ms/step | run ms/step | total ms/step |")
    print("|---|---|---|---|---|")
    for groups in (1, 4, 20):
        text = program(groups)
        steps = groups * 5 + 1
        parsed = parse_program(text)
        checked = check(parsed, registry, max_steps=1000)
        parse = median_ms(lambda: parse_program(text), 50) / steps
        chk = median_ms(lambda: check(parsed, registry, max_steps=1000), 50) / steps
        run = median_ms(lambda: interpreter.run(checked, {"IMAGE": image}), 50) / steps
        assert interpreter.run(checked, {"IMAGE": image}).result == "yes"
        print(f"| {steps} | {parse:.3f} | {chk:.3f} | {run:.3f} | {parse + chk + run:.3f} |")


if __name__ == "__main__":
    main()
