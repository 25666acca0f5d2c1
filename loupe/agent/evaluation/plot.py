"""One PNG: accuracy per category (kind and capability) and the per-item latency distribution."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def plot_summary(path: Path, summary: dict, rows: Sequence[dict], baseline_rows: Sequence[dict] = ()) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {**{f"kind: {k}": v for k, v in summary["per_kind"].items()},
              **{f"needs: {k}": v for k, v in summary["per_needs"].items()}}
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = list(groups)
    left.barh(names, [groups[n]["accuracy"] * 100 for n in names], color="#4878a8")
    left.set_xlim(0, 100)
    left.set_xlabel("accuracy (%)")
    left.set_title(f"accuracy per category (overall {summary['accuracy']:.0%})")
    left.invert_yaxis()
    latencies = [r["latency_s"] for r in rows]
    right.hist(latencies, bins=20, alpha=0.7, label="loupe")
    if baseline_rows:
        right.hist([r["latency_s"] for r in baseline_rows], bins=20, alpha=0.5, label="visprog baseline")
    right.set_xlabel("latency per item (s)")
    right.set_ylabel("items")
    right.set_title(f"latency (p50 {summary['latency_s']['p50']:.2f} s, p95 {summary['latency_s']['p95']:.2f} s)")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
