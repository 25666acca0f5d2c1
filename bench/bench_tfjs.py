"""Latency and throughput of the TF.js runner per model.

    python3 bench/bench_tfjs.py --models /path/to/models [--device cpu] [--threads 2]

Prints, per model: p50 / p90 ms per forward at batch 1, and images/s at batch 8. Each model computes the
outputs Loupe reads (CenterNet: heatmap and sizes, not its own batch-1 peak-decoding head).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from loupe.tools.lite.detector import OUTPUTS as CENTERNET_OUTPUTS
from loupe.tools.lite.tfjs import GraphModel

DEFAULT_MODELS = ["centernet", "blazeface", "blazeface-front", "selfie", "meet", "nanodet"]
READ_OUTPUTS = {"centernet": list(CENTERNET_OUTPUTS)}


def _timed(model: GraphModel, x: torch.Tensor, device: torch.device) -> float:
    start = time.perf_counter()
    model(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def bench_model(path: Path, device: torch.device, runs: int, batch: int) -> dict:
    """Load ``path`` and time it; returns p50/p90 ms at batch 1 and img/s at ``batch``."""
    model = GraphModel.load(path, device=device, outputs=READ_OUTPUTS.get(path.stem))
    shape = tuple(model.input_shapes[model.input_names[0]][1:])
    one = torch.rand((1,) + shape, device=device)
    many = torch.rand((batch,) + shape, device=device)
    for _ in range(3):
        _timed(model, one, device)
    singles = sorted(_timed(model, one, device) for _ in range(runs))
    _timed(model, many, device)
    batched = min(_timed(model, many, device) for _ in range(max(2, runs // 5)))
    return {"p50_ms": 1000 * statistics.median(singles), "p90_ms": 1000 * singles[int(0.9 * (len(singles) - 1))],
            "batch_img_s": batch / batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, required=True, help="folder with centernet.json etc.")
    parser.add_argument("--names", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = leave)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    print(f"{'model':18s} {'p50 ms (b=1)':>12s} {'p90 ms':>8s} {f'img/s (b={args.batch})':>14s}")
    for name in args.names:
        path = args.models / f"{name}.json"
        if not path.exists():
            print(f"{name:18s} missing ({path})")
            continue
        r = bench_model(path, device, args.runs, args.batch)
        print(f"{name:18s} {r['p50_ms']:12.1f} {r['p90_ms']:8.1f} {r['batch_img_s']:14.1f}")


if __name__ == "__main__":
    main()
