"""What each part of the lite COCO detector adds: CenterNet alone, + tiles, + NanoDet, at several thresholds.

    python3 bench/bench_detector.py --questions Q.jsonl --images DIR --programs bench/oracle/answers.jsonl

Every detector runs once per photo at a low threshold (0.1); each variant (parts and thresholds) is then
fused from those raw detections (thresholding after greedy NMS equals NMS after thresholding), and the
oracle programs of the COCO answer items (``needs`` within coco/two_images) run with LOC reading the
variant's objects. Prints accuracy on counting and on the other (existence/comparison) items, the counts
on the darknet test photos, and LOC latency (p50, warm, fresh image each run) per part.
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.evaluation.matching import answer_matches  # noqa: E402
from programs.interpreter import Interpreter  # noqa: E402
from programs.values import Image, Objects, as_text  # noqa: E402
from tools.lite.coco import COCO_CLASSES  # noqa: E402
from tools.lite.detector import non_max_suppression  # noqa: E402
from tools.lite.fusion import FUSE_IOU, DetectorOptions, FusedDetector, settle  # noqa: E402
from tools.registry import default_registry  # noqa: E402
from tools.lite.vision import lite_vision  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
LOW = 0.1
VARIANTS = [  # (name, CenterNet threshold, NanoDet threshold or None, tiles)
    ("CenterNet 0.25 (before)", 0.25, None, False), ("CenterNet 0.2", 0.2, None, False),
    ("CenterNet 0.3", 0.3, None, False), ("CenterNet 0.25 + tiles", 0.25, None, True),
    ("CenterNet 0.25 + NanoDet 0.3", 0.25, 0.3, False), ("CenterNet 0.25 + NanoDet 0.4", 0.25, 0.4, False),
    ("CenterNet 0.25 + NanoDet 0.5", 0.25, 0.5, False), ("CenterNet 0.3 + NanoDet 0.4", 0.3, 0.4, False),
    ("CenterNet 0.25 + tiles + NanoDet 0.3", 0.25, 0.3, True),
    ("CenterNet 0.25 + tiles + NanoDet 0.4", 0.25, 0.4, True),
]


class RawCache:
    """Raw detections per image (by source name): CenterNet whole, CenterNet with tiles, NanoDet."""

    def __init__(self):
        self.detector = FusedDetector()
        self.raw: dict[str, dict] = {}

    def add(self, image: Image) -> None:
        if image.source in self.raw:
            return
        centernet = self.detector.centernet
        self.raw[image.source] = {
            "whole": centernet.raw([image], LOW)[0], "tiles": centernet.raw([image], LOW, tiles=True)[0],
            "nanodet": self.detector.nanodet.raw([image], LOW)[0]}

    def objects(self, image: Image, variant) -> Objects:
        _, cn, nd, tiles = variant
        raw = self.raw[image.source]
        parts = [_above(raw["tiles" if tiles else "whole"], cn)]
        if nd is not None:
            parts.append(settle(*_above(raw["nanodet"], nd)))
        boxes, scores, classes = (np.concatenate([p[k] for p in parts]) for k in range(3))
        keep = non_max_suppression(boxes, scores, FUSE_IOU, classes)
        return Objects.from_arrays(boxes[keep], scores[keep], [COCO_CLASSES[c] for c in classes[keep]], image.size)


def _above(found, threshold):
    boxes, scores, classes = found
    keep = scores >= threshold
    return boxes[keep], scores[keep], classes[keep]


def load(path: Path, name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(path), name)


def accuracy(items, programs, images, cache, registry, variant):
    vision = lite_vision(registry.context)
    vision.objects = lambda batch: [cache.objects(image, variant) for image in batch]
    right = Counter()
    total = Counter()
    for item in items:
        names = item.get("images") or [item["image"]]
        inputs = {"IMAGE": images[names[0]]} if len(names) == 1 else {
            "LEFT": images[names[0]], "RIGHT": images[names[1]]}
        result = Interpreter(registry).run(programs[item["query"]], inputs).result
        group = "count" if item["query"].lower().startswith(("how many", "count")) else "other"
        total[group] += 1
        right[group] += answer_matches(as_text(result) if result is not None else "", item["answers"])
    return {g: (right[g], total[g]) for g in ("count", "other")}


def latency(options: DetectorOptions, image: Image, runs: int) -> float:
    detector = FusedDetector(options=options)
    detector.detect([image])  # warm
    times = []
    for _ in range(runs):
        fresh = Image(image.pixels.copy(), image.source)
        start = time.perf_counter()
        detector.detect([fresh])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--programs", default="bench/oracle/answers.jsonl")
    parser.add_argument("--full-horses", help="the 773x512 horses.jpg (default: tests/data/photos/horses-full.jpg)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--variants", help="comma-separated indices of VARIANTS to run (default: all)")
    args = parser.parse_args()
    programs = {r["query"]: r["program"] for r in map(json.loads, Path(args.programs).read_text().splitlines())}
    items = [q for q in map(json.loads, Path(args.questions).read_text().splitlines())
             if q["kind"] == "answer" and "coco" in q["needs"] and set(q["needs"]) <= {"coco", "two_images"}
             and q["query"] in programs]
    cache, images = RawCache(), {}
    for item in items:
        for name in item.get("images") or [item["image"]]:
            images.setdefault(name, load(Path(args.images) / name, name))
            cache.add(images[name])
            print(f"detected {name} {images[name].size}", file=sys.stderr, flush=True)
    photos = {name: load(PHOTOS / name, name) for name in ("person.jpg", "dog.jpg", "horses-full.jpg")}
    for image in photos.values():
        cache.add(image)
    registry = default_registry()
    print(f"{len(items)} COCO answer items\n")
    print("| variant | counting | existence/comparison | all | person.jpg | dog.jpg | horses-full.jpg |")
    print("|---|---|---|---|---|---|---|")
    chosen = [VARIANTS[int(i)] for i in args.variants.split(",")] if args.variants else VARIANTS
    for variant in chosen:
        acc = accuracy(items, programs, images, cache, registry, variant)
        right, total = sum(r for r, _ in acc.values()), sum(t for _, t in acc.values())
        shown = [", ".join(f"{n} {k}" for k, n in sorted(Counter(cache.objects(photos[p], variant).labels).items()))
                 for p in photos]
        print(f"| {variant[0]} | {acc['count'][0]}/{acc['count'][1]} | {acc['other'][0]}/{acc['other'][1]} | "
              f"{right}/{total} ({100 * right / total:.1f}%) | " + " | ".join(shown) + " |")
    print("\n| LOC detector parts | p50 ms, 640x424 photo | p50 ms, 773x512 photo |\n|---|---|---|")
    small, large = photos["person.jpg"], photos["horses-full.jpg"]
    for name, options in [("CenterNet", DetectorOptions(0.25, 2.0, False)),
                          ("CenterNet + NanoDet", DetectorOptions(0.25, 0.4, False)),
                          ("CenterNet + tiles + NanoDet", DetectorOptions(0.25, 0.4, True))]:
        print(f"| {name} | {latency(options, small, args.runs):.1f} | {latency(options, large, args.runs):.1f} |")


if __name__ == "__main__":
    main()
