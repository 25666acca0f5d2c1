"""Wall time of whole programs on real photos with the lite backends, warm (models loaded).

    python3 bench/bench_programs.py       # needs `loupe models pull`

Each program runs once to warm up (loads the models), then ``RUNS`` times on a *fresh copy* of the
photo so the per-image detection cache does not hide the model forwards; p50 and p90 are printed.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loupe.programs.images import load_image  # noqa: E402
from loupe.programs.interpreter import Interpreter  # noqa: E402
from loupe.programs.values import Image  # noqa: E402
from loupe.tools.registry import default_registry  # noqa: E402
from loupe.tools.settings import Settings  # noqa: E402

RUNS = 10
PROGRAMS = {
    "dog and bicycle? (6 steps)": ("examples/programs/dog_and_bicycle.txt", "examples/images/dog.jpg"),
    "count horses (3 steps)": ("examples/programs/count_horses.txt", "examples/images/horses.jpg"),
    "colour-pop people (4 steps)": ("examples/programs/colorpop_people.txt", "examples/images/kite.jpg"),
    "tag everything (3 steps)": ("examples/programs/tag_objects.txt", "examples/images/dog.jpg"),
}


def main() -> None:
    interpreter = Interpreter(default_registry(Settings.from_env(), plugins=False))
    print("| program | p50 ms | p90 ms | answer |")
    print("|---|---|---|---|")
    for title, (program_file, photo) in PROGRAMS.items():
        text = (ROOT / program_file).read_text()
        image = load_image(ROOT / photo)
        checked = interpreter.prepare(text, {"IMAGE": image})
        execution = interpreter.run(checked, {"IMAGE": image})  # warm-up: loads models
        assert execution.ok, execution.errors
        times = []
        for _ in range(RUNS):
            fresh = Image(np.array(image.pixels), image.source)
            start = time.perf_counter()
            execution = interpreter.run(checked, {"IMAGE": fresh})
            times.append((time.perf_counter() - start) * 1000)
        answer = execution.answer if not isinstance(execution.result, Image) else "(image)"
        q = statistics.quantiles(times, n=10)
        print(f"| {title} | {statistics.median(times):.0f} | {q[8]:.0f} | {answer} |")


if __name__ == "__main__":
    main()
