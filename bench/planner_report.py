"""Planner-side numbers from `loupe eval` outputs: accuracy per `needs` group next to an oracle run,
valid programs, edits that use the expected tools, and LLM calls.

    python3 bench/planner_report.py QUESTIONS.jsonl PLANNER_OUT/results.jsonl [ORACLE_OUT/results.jsonl]
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path


def _rows(path: str) -> dict[str, dict]:
    return {row["id"]: row for row in map(json.loads, Path(path).read_text().splitlines()) if row}


def main(questions: str, planner: str, oracle: str | None = None) -> None:
    items = {i["id"]: i for i in map(json.loads, Path(questions).read_text().splitlines()) if i}
    runs = {"planner": _rows(planner), **({"oracle": _rows(oracle)} if oracle else {})}
    groups: dict[str, list[str]] = defaultdict(list)
    for item_id in runs["planner"]:
        for need in items[item_id].get("needs", ["(none)"]):
            groups[need].append(item_id)
        groups["all"].append(item_id)
    print("| needs | items | " + " | ".join(f"{name} accuracy" for name in runs) + " |")
    print("|---|---|" + "---|" * len(runs))
    for group, ids in sorted(groups.items(), key=lambda g: (g[0] == "all", g[0])):
        cells = [f"{sum(run[i]['correct'] for i in ids if i in run) / len(ids):.1%}" for run in runs.values()]
        print(f"| {group} | {len(ids)} | " + " | ".join(cells) + " |")
    rows = runs["planner"].values()
    edits = [r for r in rows if items[r["id"]]["kind"] == "edit"]
    used = [set(re.findall(r"=\s*([A-Z_]+)\(", r["program"] or "")) >= set(items[r["id"]]["expect_tools"])
            for r in edits]  # the planner's choice of tools, whether or not the lite backend could run them
    print(f"\nvalid programs: {sum(r['valid_program'] for r in rows)}/{len(rows)}; "
          f"edits using the expected tools: {sum(used)}/{len(edits)}; "
          f"LLM calls: {sum(r['llm_calls'] for r in rows)} for {len(rows)} items")


if __name__ == "__main__":
    main(*sys.argv[1:4])
