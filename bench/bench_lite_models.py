"""Time the lite model wrappers: load, p50 latency at batch 1, throughput at batch 8.

Run from the repository root after `loupe models pull`:  python3 bench/bench_lite_models.py [--device cpu]
Prints a markdown table. Inputs are real photos (tests/data/photos, skimage's astronaut).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import statistics
import sys
import time

ROOT = Path(__file__).resolve().parents[1]


def photos():
    from PIL import Image as PILImage
    from skimage import data

    from loupe.programs.values import Image

    files = sorted((ROOT / "tests" / "data" / "photos").glob("*.jpg"))
    return [Image.from_pil(PILImage.open(f), f.name) for f in files] + [Image(data.astronaut(), "astronaut")]


def wrappers(device: str):
    from loupe.tools.lite.detector import CenterNetDetector
    from loupe.tools.lite.faces import FaceDetector
    from loupe.tools.lite.ocr import TextReader
    from loupe.tools.lite.person_seg import PersonSegmenter

    return [
        ("CenterNet detector (512x512)", CenterNetDetector(device), "detect"),
        ("BlazeFace faces (256x256 views)", FaceDetector(device), "detect"),
        ("Selfie person segmentation (256x256)", PersonSegmenter(device), "segment"),
        ("Meet person segmentation (144x256)", PersonSegmenter(device, model="meet"), "segment"),
        ("RapidOCR text (PP-OCRv6 small)", TextReader(device), "read"),
    ]


def measure(run, images, repeats: int) -> tuple[float, float, float]:
    """(first call s, p50 ms per image at batch 1, images/s at batch 8)."""
    start = time.perf_counter()
    run(images[:1])
    first = time.perf_counter() - start
    singles = []
    for i in range(repeats):
        start = time.perf_counter()
        run([images[i % len(images)]])
        singles.append((time.perf_counter() - start) * 1000)
    batch = (images * 8)[:8]
    run(batch)
    start = time.perf_counter()
    for _ in range(max(1, repeats // 8)):
        run(batch)
    throughput = 8 * max(1, repeats // 8) / (time.perf_counter() - start)
    return first, statistics.median(singles), throughput


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=16)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import torch

    images = photos()
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{len(images)} photos 333-640 px\n")
    print("| model | load + first call (s) | p50 batch 1 (ms/image) | batch 8 (images/s) |")
    print("|---|---:|---:|---:|")
    for name, wrapper, method in wrappers(args.device):
        first, p50, throughput = measure(getattr(wrapper, method), images, args.repeats)
        print(f"| {name} | {first:.2f} | {p50:.1f} | {throughput:.1f} |", flush=True)


if __name__ == "__main__":
    main()
