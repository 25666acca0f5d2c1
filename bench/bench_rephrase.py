"""The held-out rephrasings (bench/rephrase/heldout.jsonl, issue 22): each request in its plain (canonical)
wording and in a user's everyday wording, on photos of the pool and the test photos, answered end to end.

    python bench/bench_rephrase.py --out /tmp/rephrase [--planner-llm local] [--only canonical,rephrased,oracle]
    python bench/bench_rephrase.py --items bench/rephrase/dev_everyday.jsonl --plan-only   # the development set

The development set (``dev_everyday.jsonl``, ours to tune on) carries each item's expected ``program`` in place of
an oracle file. ``--plan-only`` plans both wordings (the ranker, no LM pass, nothing run: seconds, not minutes) and
reports per group how often each wording plans the expected program and how often the everyday wording plans the
plain wording's program; the end-to-end rows are what the held-out set is reported with.

Rows (one `loupe eval` run each, program mode, lite tier):
- ``canonical``: the plain wording, the real planner (the embedded model by default);
- ``rephrased``: the everyday wording, the same planner;
- ``oracle``: the everyday wording with the correct program of bench/rephrase/oracle.jsonl (perception and the
  coverage statuses only; no planning).
Reported per intent group with item counts: answers right (status ok or partial with the right answer),
edits that pass the edit check, and for the out-of-scope questions how many came back with status ok (an
answer where none is possible: the worst outcome) and how many were refused as unsupported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "bench" / "rephrase" / "heldout.jsonl"
ORACLE = ROOT / "bench" / "rephrase" / "oracle.jsonl"
SOURCES = {"pool": Path(os.environ.get("LOUPE_SHARED", ROOT.parent / "shared")) / "data" / "images",
           "tests": ROOT / "tests" / "data" / "photos"}
GROUPS = {"count": "counts", "face_count": "counts", "exists": "yes/no", "compare": "yes/no", "choice": "choice",
          "colour": "colour", "text": "text"}


def _group(item: dict) -> str:
    if item["intent"] == "out_of_scope":
        return "out of scope"
    if item["kind"] == "edit":
        return "edits"
    return GROUPS.get(item["intent"], item["intent"])


def load_items(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prepare(out: Path, items: list[dict]) -> tuple[Path, dict[str, Path]]:
    """The image folder (links to the two sources) and one questions file per wording."""
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    files = {}
    for wording in ("canonical", "rephrased"):
        rows = []
        for item in items:
            source, _, name = item["image"].partition(":")
            link = images / f"{source}__{name}"
            if not link.exists():   # a copy: the harness reads images only from inside its folder
                shutil.copyfile(SOURCES[source] / name, link)
            row = {"id": item["id"], "image": link.name, "query": item[wording], "kind": item["kind"],
                   "needs": ["coco"]}
            if item["kind"] == "answer":
                row["answers"] = item["answers"] or ["(no answer is possible: refuse)"]
            else:
                row["expect_tools"] = item["expect_tools"]
                if item.get("region"):
                    row["region"] = item["region"]
            rows.append(row)
        files[wording] = out / f"{wording}.jsonl"
        files[wording].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return images, files


def oracle_file(items: list[dict], out: Path) -> Path:
    """The held-out set's oracle file, or one written from the items' own ``program`` (the development set)."""
    if not any("program" in item for item in items):
        return ORACLE
    path = out / "oracle.jsonl"
    path.write_text("".join(json.dumps({"id": i["id"], "program": i["program"]}) + "\n"
                            for i in items if i.get("program")), encoding="utf-8")
    return path


def _same(program: str, expected: str | None) -> bool:
    """Equal up to the question a VQA or PICK_TEXT step passes on (the request's own words, passed as asked)."""
    def strip(text: str) -> str:
        return re.sub(r"question=(['\"]).*?\1", "question=Q", text)
    return expected is not None and strip(program) == strip(expected)


def plan_only(items: list[dict]) -> str:
    """Per group: plain and everyday wordings planning the expected program, and the everyday wording planning
    the plain wording's program (the wording gap alone, whatever the plain wording planned)."""
    from loupe.agent.planning.rank_planner import RankPlanner
    from loupe.agent.planning.retrieval import ExampleRetriever
    from loupe.programs.examples_library import load_library
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings

    planner = RankPlanner(None, default_registry(Settings.from_env(), plugins=False), ExampleRetriever(load_library()))

    def best(query: str) -> str:
        ranked = planner.rank(query, lm=False)
        return ranked[0].program if ranked else ""

    by_group: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for item in items:
        plain, everyday = best(item["canonical"]), best(item["rephrased"])
        c = by_group[_group(item)]
        c["n"] += 1
        c["plain"] += _same(plain, item.get("program"))
        c["everyday"] += _same(everyday, item.get("program"))
        c["agree"] += _same(everyday, plain)
        if not _same(everyday, plain):
            misses.append(f"{item['id']} [{item['form']}] {item['rephrased']!r}\n  plain:    "
                          + plain.replace("\n", " ; ") + "\n  everyday: " + everyday.replace("\n", " ; "))
    total = Counter()
    lines = ["| group (items) | plain = expected | everyday = expected | everyday = plain |", "|---|---|---|---|"]
    for group, c in sorted(by_group.items()):
        total.update(c)
        lines.append(f"| {group} ({c['n']}) | {c['plain']} | {c['everyday']} | {c['agree']} |")
    lines.append(f"| **all ({total['n']})** | **{total['plain']}** | **{total['everyday']}** | **{total['agree']}** |")
    return "\n".join(lines) + "\n\nEveryday wordings planned differently from their plain wording:\n" + "\n".join(misses) + "\n"


def report(name: str, rows: dict[str, dict], items: list[dict]) -> dict:
    by_group: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        row = rows.get(item["id"], {})
        group = _group(item)
        counter = by_group[group]
        counter["n"] += 1
        status = row.get("status", "missing")
        counter[status] += 1
        if group == "out of scope":
            counter["ok (wrong)"] += status == "ok"
            counter["refused"] += status == "unsupported"
        else:
            counter["right"] += bool(row.get("correct"))
    return {"name": name, "groups": {g: dict(c) for g, c in sorted(by_group.items())}}


def markdown(reports: list[dict]) -> str:
    groups = sorted({g for r in reports for g in r["groups"]})
    head = "| group | " + " | ".join(r["name"] for r in reports) + " |\n|---|" + "---|" * len(reports) + "\n"
    lines = []
    for group in groups:
        cells = []
        for r in reports:
            c = r["groups"].get(group, {})
            if group == "out of scope":
                cells.append(f"{c.get('ok (wrong)', 0)}/{c.get('n', 0)} ok (wrong), {c.get('refused', 0)} unsupported")
            else:
                cells.append(f"{c.get('right', 0)}/{c.get('n', 0)} ({100 * c.get('right', 0) / max(1, c.get('n', 0)):.1f}%)"
                             f", {c.get('partial', 0)} partial")
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    total = []
    for r in reports:
        inscope = [c for g, c in r["groups"].items() if g != "out of scope"]
        right, n = sum(c.get("right", 0) for c in inscope), sum(c.get("n", 0) for c in inscope)
        total.append(f"{right}/{n} ({100 * right / max(1, n):.1f}%)")
    lines.append("| all in scope | " + " | ".join(total) + " |")
    return head + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=Path, default=HELDOUT)
    parser.add_argument("--plan-only", action="store_true", help="plan both wordings, run nothing")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--planner-llm", default="local")
    parser.add_argument("--only", default="canonical,rephrased,oracle")
    args = parser.parse_args()
    items = load_items(args.items)
    if args.plan_only:
        print(plan_only(items))
        return 0
    if args.out is None:
        parser.error("--out is needed to run the requests")
    from loupe.agent.evaluation.harness import run_eval
    from loupe.tools.settings import Settings

    settings = Settings.from_env()   # this script is an entry point: the settings are read once, here

    images, files = prepare(args.out, items)
    oracle = oracle_file(items, args.out)
    reports = []
    for name in args.only.split(","):
        wording = "canonical" if name == "canonical" else "rephrased"
        llm = f"oracle:{oracle}" if name == "oracle" else args.planner_llm
        run_dir = args.out / name
        run_eval(files[wording], images, run_dir, llm=llm, progress=False, settings=settings)
        rows = {row["id"]: row for row in map(json.loads, (run_dir / "results.jsonl").read_text().splitlines())}
        reports.append(report(name, rows, items))
    (args.out / "report.json").write_text(json.dumps(reports, indent=2), encoding="utf-8")
    text = markdown(reports)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
