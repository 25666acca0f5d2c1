"""Choose the margin of ``loupe.agent.planning.scope`` on our own calibration phrasings
(``bench/rephrase/intent_calibration.jsonl``: requests the lite tier answers and requests it cannot, in our own
words and objects; never the held-out rephrasings or a benchmark question).

    python bench/rephrase/calibrate_scope.py [--show]

Each phrasing is read (``read_request``) and judged; the margin kept is the one with the fewest errors when a
false refusal (an answerable request refused) counts three times a missed one (a refusal is final, while a
missed out-of-scope question is still caught by the coverage rules). The margin is chosen on the even rows and
reported on the odd rows too, then on all rows; set ``MARGIN`` in loupe/agent/planning/scope.py to the printed value.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CALIBRATION = ROOT / "bench" / "rephrase" / "intent_calibration.jsonl"
FALSE_REFUSAL_COST = 3.0


def _judged() -> list[tuple[float, bool, str]]:
    from loupe.agent.planning.reading import read_request
    from loupe.agent.planning.scope import judge

    rows = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(judge(read_request(r["text"]).clause).margin, r["scope"] == "beyond", r["text"]) for r in rows]


def _errors(rows, margin: float) -> tuple[int, int]:
    """(answerable requests refused, out-of-scope requests let through) at ``margin``."""
    refused = sum(1 for m, beyond, _ in rows if not beyond and m > margin)
    missed = sum(1 for m, beyond, _ in rows if beyond and m <= margin)
    return refused, missed


def choose(rows) -> float:
    candidates = sorted({round(m, 3) for m, _, _ in rows})
    return min(candidates, key=lambda t: (FALSE_REFUSAL_COST * _errors(rows, t)[0] + _errors(rows, t)[1], -t))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every phrasing with its margin")
    args = parser.parse_args()
    rows = _judged()
    even, odd = rows[::2], rows[1::2]
    for name, chosen_on, measured_on in (("even -> odd", even, odd), ("all", rows, rows)):
        margin = choose(chosen_on)
        refused, missed = _errors(measured_on, margin)
        within = sum(1 for _, beyond, _ in measured_on if not beyond)
        print(f"{name}: margin {margin:+.3f}; answerable refused {refused}/{within}, "
              f"out of scope let through {missed}/{len(measured_on) - within}")
    if args.show:
        for margin, beyond, text in sorted(rows):
            print(f"{margin:+.3f} {'beyond' if beyond else 'within'} {text}")


if __name__ == "__main__":
    main()
