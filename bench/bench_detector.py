"""What each part and threshold of the lite COCO detector adds: accuracy of oracle programs, darknet counts,
LOC latency.

    python3 bench/bench_detector.py --questions ../shared/bench/questions.jsonl --programs bench/oracle/visible.jsonl \
        --questions bench/dev_questions.jsonl --programs bench/oracle/dev.jsonl --images ../shared/data/images

Both detectors run once per photo at their floor (``fusion.FLOOR``) and the settled objects are cached;
each variant (``DetectorOptions``) is then fused from them with the same ``fusion.fuse`` LOC uses, and the
oracle programs (rows keyed by item id) of every answer item whose ``needs`` lie within coco/two_images run
with LOC reading the variant's objects. Prints accuracy per question file (counting / other), the counts
LOC finds on the darknet test photos, and with ``--latency`` LOC's detector p50 (warm, fresh image each run).
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import replace
import json
import pickle
from pathlib import Path
import statistics
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loupe.agent.evaluation.matching import answer_matches  # noqa: E402
from loupe.programs.interpreter import Interpreter  # noqa: E402
from loupe.programs.values import Image, as_text  # noqa: E402
from loupe.tools.lite.detector import tile_boxes  # noqa: E402
from loupe.tools.lite.fusion import DetectorOptions, FusedDetector, fuse  # noqa: E402
from loupe.tools.lite.vision import lite_vision  # noqa: E402
from loupe.tools.lite.vocabulary import labelled_as  # noqa: E402
from loupe.tools.registry import default_registry  # noqa: E402
from loupe.tools.settings import Settings  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
DEFAULT = DetectorOptions()
CENTERNET_ONLY = replace(DEFAULT, nanodet=False)
VARIANTS = {
    "CenterNet 0.25 + tiles (as before)": replace(CENTERNET_ONLY, centernet_min_score=0.25, guess_min_score=0.25,
                                                  family_guess_min_score=0.25),
    "CenterNet 0.2 + tiles": CENTERNET_ONLY,
    "+ NanoDet verifier (default)": DEFAULT,
    "+ NanoDet, CenterNet alone 0.25": replace(DEFAULT, centernet_min_score=0.25),
    "+ NanoDet, pair 0.25": replace(DEFAULT, pair_min_score=0.25),
    "+ NanoDet, NanoDet alone off": replace(DEFAULT, nanodet_min_score=2.0),
    "+ NanoDet, other guesses 0.25": replace(DEFAULT, guess_min_score=0.25),
    "+ NanoDet, family guesses 0.25": replace(DEFAULT, family_guess_min_score=0.25),
    "+ NanoDet, no tiles": replace(DEFAULT, tiles=False),
    "+ NanoDet, its copies of CenterNet's objects kept (as before)": replace(DEFAULT, copy_covered=2.0),
    "default, no faint objects (existence at the counting thresholds)": replace(DEFAULT, faint_min_score=1.0),
    "default, faint from 0.2": replace(DEFAULT, faint_min_score=0.2),
    "default, faint from 0.18": replace(DEFAULT, faint_min_score=0.18),
    "default, faint from 0.12": replace(DEFAULT, faint_min_score=0.12),
    "default, faint from 0.1 (the floor)": replace(DEFAULT, faint_min_score=0.1),
    "CenterNet flip test + tiles, no NanoDet": replace(CENTERNET_ONLY, flip=True),
    "default + CenterNet flip test": replace(DEFAULT, flip=True),
}
DARKNET = {"person.jpg": ("person", "dog", "horse"), "horses-full.jpg": ("horse",),
           "dog-full.jpg": ("dog", "bicycle", "truck", "car")}


def load(path: Path, name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(path).convert("RGB"), name)


def items_of(questions: str, programs: str) -> list[dict]:
    """The coco/two_images answer items of ``questions`` with their oracle program (rows keyed by id)."""
    code = {row["id"]: row["program"] for row in map(json.loads, Path(programs).read_text().splitlines())}
    items = [json.loads(line) for line in Path(questions).read_text().splitlines() if line.strip()]
    return [dict(q, program=code[q["id"]]) for q in items if q["kind"] == "answer" and q["id"] in code
            and "coco" in q["needs"] and set(q["needs"]) <= {"coco", "two_images"}]


def accuracy(items, images, cache, registry, options) -> dict[str, tuple[int, int]]:
    """(right, total) for counting and for the other questions, with LOC reading ``options``' objects (COUNT
    counts the faint ones where the program only tests its number for zero, as in every run)."""
    vision = lite_vision(registry.context)
    vision.objects = lambda batch: [fuse(*cache[image.source], image.size, options) for image in batch]
    right, total = Counter(), Counter()
    for item in items:
        names = item.get("images") or [item["image"]]
        inputs = {"IMAGE": images[names[0]]} if len(names) == 1 else {
            "LEFT": images[names[0]], "RIGHT": images[names[1]]}
        result = Interpreter(registry).run(item["program"].replace("{QUESTION}", item["query"]), inputs).result
        group = "count" if item["answers"][0].isdigit() else "other"
        total[group] += 1
        right[group] += answer_matches(as_text(result) if result is not None else "", item["answers"])
    return {g: (right[g], total[g]) for g in ("count", "other")}


def darknet_counts(photos, cache, options) -> list[str]:
    """What LOC finds on each darknet photo: ``"person 1, dog 1, horse 1"``."""
    shown = []
    for name, classes in DARKNET.items():
        found = fuse(*cache[name], photos[name].size, options)
        shown.append(", ".join(f"{c} {sum(labelled_as(o, c) is not None for o in found)}" for c in classes))
    return shown


def detections(images: list[Image], path: str | None) -> dict:
    """Settled objects per image source (``NAME`` with tiles, ``NAME#whole`` without, ``NAME#flip`` with tiles
    and CenterNet's flip test), kept in ``path``."""
    cache = pickle.loads(Path(path).read_bytes()) if path and Path(path).exists() else {}
    every, tiled = FusedDetector(options=replace(DEFAULT, tiles=False)), FusedDetector(options=DEFAULT)
    flipped = FusedDetector(options=replace(DEFAULT, flip=True))
    for image in images:
        if image.source + "#flip" not in cache:
            cache[image.source + "#flip"] = flipped.settled([image])[0]
            if path:
                Path(path).write_bytes(pickle.dumps(cache))
        if image.source not in cache:
            cache[image.source] = tiled.settled([image])[0]
            cache[image.source + "#whole"] = every.settled([image])[0] if tile_boxes(*image.size) else \
                cache[image.source]
            print(f"detected {image.source} {image.size}", file=sys.stderr, flush=True)
            if path:
                Path(path).write_bytes(pickle.dumps(cache))
    return cache


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
    parser.add_argument("--questions", action="append", required=True)
    parser.add_argument("--programs", action="append", required=True, help="oracle rows keyed by id, per --questions")
    parser.add_argument("--images", required=True)
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--cache", help="a file keeping the detections between runs (delete it after a model change)")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sets = [items_of(q, p) for q, p in zip(args.questions, args.programs)]
    images = {}
    for item in (i for items in sets for i in items):
        for name in item.get("images") or [item["image"]]:
            images.setdefault(name, load(Path(args.images) / name, name))
    photos = {name: load(PHOTOS / name, name) for name in DARKNET}
    cache = detections(list(images.values()) + list(photos.values()), args.cache)
    registry = default_registry(Settings.from_env())
    heads = " | ".join(f"{Path(q).name} ({len(items)})" for q, items in zip(args.questions, sets))
    print(f"| variant | {heads} | " + " | ".join(DARKNET) + " |\n|---|" + "---|" * (len(sets) + len(DARKNET)))
    for name, options in VARIANTS.items():
        suffix = "#flip" if options.flip else "" if options.tiles else "#whole"
        view = {k.split("#")[0]: v for k, v in cache.items() if k.endswith(suffix) and (suffix or "#" not in k)}
        if not options.nanodet:
            view = {k: (v[0], None) for k, v in view.items()}
        cells = []
        for items in sets:
            acc = accuracy(items, images, view, registry, options)
            right, total = sum(r for r, _ in acc.values()), sum(t for _, t in acc.values())
            cells.append(f"{right}/{total} (count {acc['count'][0]}/{acc['count'][1]})")
        print(f"| {name} | " + " | ".join(cells + darknet_counts(photos, view, options)) + " |", flush=True)
    if args.latency:
        print("\n| LOC detector | p50 ms, 640x424 photo | p50 ms, 773x512 photo |\n|---|---|---|")
        for name, options in [("CenterNet + tiles", CENTERNET_ONLY), ("CenterNet + tiles + NanoDet", DEFAULT),
                              ("CenterNet flip test + tiles", replace(CENTERNET_ONLY, flip=True)),
                              ("CenterNet flip test + tiles + NanoDet", replace(DEFAULT, flip=True))]:
            small, large = photos["person.jpg"], photos["horses-full.jpg"]
            print(f"| {name} | {latency(options, small, args.runs):.1f} | {latency(options, large, args.runs):.1f} |")


if __name__ == "__main__":
    main()
