"""Summaries of result rows: accuracy overall, per kind and per capability (``needs``), valid-program
rate, latency percentiles and throughput; written as JSON and Markdown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np


def summarize(rows: Sequence[dict], wall_s: float) -> dict:
    """``wall_s``: the run's wall time in seconds (throughput = items / wall_s)."""
    latencies = [r["latency_s"] for r in rows]
    return {
        "items": len(rows),
        "accuracy": _rate(rows),
        "per_kind": _grouped(rows, lambda r: [r["kind"]]),
        "per_needs": _grouped(rows, lambda r: r["needs"] or ["(none)"]),
        "valid_program_rate": round(sum(r["valid_program"] for r in rows) / len(rows), 4) if rows else 0.0,
        "latency_s": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95),
                      "mean": round(float(np.mean(latencies)), 4) if latencies else 0.0},
        "wall_s": round(wall_s, 3),
        "throughput_items_per_s": round(len(rows) / wall_s, 4) if wall_s > 0 else 0.0,
        "llm_calls": sum(r["llm_calls"] for r in rows),
        "prompt_tokens": sum(r["prompt_tokens"] for r in rows),
        "errors": sum(1 for r in rows if r["status"] != "ok"),
    }


def compare(loupe: dict, baseline: dict) -> dict:
    """Loupe's throughput over the baseline's (how many times faster); None when either system failed
    on every item (its "throughput" would only measure how fast it fails)."""
    base = baseline["throughput_items_per_s"]
    broken = any(summary["errors"] == summary["items"] for summary in (loupe, baseline))
    return {"speedup": round(loupe["throughput_items_per_s"] / base, 3) if base and not broken else None,
            "baseline": baseline}


def _rate(rows) -> float:
    return round(sum(bool(r["correct"]) for r in rows) / len(rows), 4) if rows else 0.0


def _grouped(rows, keys) -> dict:
    groups: dict[str, list] = {}
    for row in rows:
        for key in keys(row):
            groups.setdefault(key, []).append(row)
    return {k: {"items": len(v), "accuracy": _rate(v)} for k, v in sorted(groups.items())}


def _percentile(values, q) -> float:
    return round(float(np.percentile(values, q)), 4) if values else 0.0


def write_jsonl(path: Path, rows: Sequence[dict]) -> None:
    with open(path, "w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row) + "\n")


def write_summary(folder: Path, summary: dict, title: str = "Loupe evaluation") -> None:
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(markdown(summary, title), encoding="utf-8")


def markdown(summary: dict, title: str) -> str:
    lines = [f"# {title}", ""]
    for key in ("questions", "mode", "llm", "engine", "workers"):
        if key in summary:
            lines.append(f"- {key}: `{summary[key]}`")
    lines += ["", "| system | items | accuracy | valid programs | p50 latency (s) | p95 latency (s) | "
              "throughput (items/s) | LLM calls |", "|---|---|---|---|---|---|---|---|"]
    systems = [("loupe", summary)] + ([("visprog baseline", summary["baseline"])] if "baseline" in summary else [])
    for name, s in systems:
        lines.append(f"| {name} | {s['items']} | {s['accuracy']:.1%} | {s['valid_program_rate']:.1%} | "
                     f"{s['latency_s']['p50']:.3f} | {s['latency_s']['p95']:.3f} | "
                     f"{s['throughput_items_per_s']:.3f} | {s['llm_calls']} |")
    if summary.get("speedup") is not None:
        lines += ["", f"Loupe throughput / baseline throughput: **{summary['speedup']:.2f}x**"]
    for group in ("per_kind", "per_needs"):
        lines += ["", f"## Accuracy {group.replace('_', ' ')}", "", "| group | items | accuracy |", "|---|---|---|"]
        lines += [f"| {k} | {v['items']} | {v['accuracy']:.1%} |" for k, v in summary[group].items()]
    return "\n".join(lines) + "\n"
