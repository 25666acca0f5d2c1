"""The lite tier's COCO detector: CenterNet (whole photo, plus tiles of large photos) verified by NanoDet.

Both detectors run at a low floor (:data:`FLOOR`); each one's boxes are first settled into objects
(class-aware NMS, then boxes of different classes that are one object, IoU > ``SAME_OBJECT_IOU``,
merged into one object whose class scores ``[80]`` are the element-wise maximum of theirs). The two
sets of objects are then matched one to one (IoU > ``FUSE_IOU`` and some class both detectors give
a score): a matched pair is one object whose class scores are the mean of the two detectors', never
below CenterNet's own (NanoDet confirms or corrects, it does not veto a box CenterNet is sure of) (its box
CenterNet's, the more precise: a score-weighted mean moved boxes off people) and is kept when its best class reaches
``pair_min_score``; an object one detector alone found must reach that detector's own threshold.
NanoDet is therefore mostly a *verifier*: it lifts the objects CenterNet is unsure of, corrects
CenterNet's label where the two agree on another class (the white horse CenterNet calls a sheep),
and only adds an object by itself when very sure, and not where CenterNet already found one of its
class (:func:`duplicates`: NanoDet's box of that object framed differently).

A box lying inside a much larger box of its class is a part of that object and dropped
(:func:`parts`: a bicycle's wheel).

An object below its threshold whose best class still reaches ``faint_min_score`` (NanoDet's lone objects
excepted) is kept as *faint* (``Objects.faint``, with its best label only, no guesses): not counted, drawn
or edited, but enough for COUNT to say "there is one" when a program only tests its number for zero
(``loupe.tools.count``). Counting and existence
need different thresholds: a missed object makes both wrong, a false one only the existence answer.

Each object's label is its best class; other classes it scores at least ``guess_min_score`` for
(or ``family_guess_min_score`` within the same family: four-legged animals but cats, road vehicles), are kept as
``guesses`` when no object in the photo has that label, so LOC finds a terrier scored as a sheep when
asked for a dog (:func:`loupe.tools.lite.vocabulary.labelled_as`), but a horse also scored as a dog is not
counted as a second dog beside a real one.

Thresholds were chosen by measurement on real photos (BENCHMARKS.md, "Lite-tier detection").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from loupe.programs.values import Image, Obj, Objects
from loupe.tools.lite.coco import COCO_CLASSES
from loupe.tools.lite.detector import SAME_OBJECT_IOU, CenterNetDetector, box_iou, non_max_suppression
from loupe.tools.lite.nanodet import NanoDetDetector

FLOOR = 0.1  # both detectors report everything above this; the options below decide what is kept
NMS_IOU = 0.5
FUSE_IOU = 0.5
SHARED_CLASS = 0.1  # a pair matches only when some class scores at least this in both detectors
PART_INSIDE, PART_AREA = 0.8, 4.0  # see parts()
COPY_COVERED = 0.3  # see duplicates()
COVER_GRID = 32  # duplicates() measures coverage on this many x this many points of the box
PERSON = COCO_CLASSES.index("person")
FAMILIES = (
    frozenset({"dog", "horse", "sheep", "cow", "bear", "elephant", "zebra", "giraffe"}),  # not cat: see BENCHMARKS
    frozenset({"car", "truck", "bus", "train"}),
    frozenset({"bicycle", "motorcycle"}),
)


UNSURE_FROM, SURE_FROM = 0.167, 0.45  # evidence in [0.167, 0.45) was right less than 80% of the time (calibration)


@dataclass(frozen=True)
class DetectorOptions:
    """Which parts run and their score thresholds (0..1; NanoDet is off when ``nanodet`` is False)."""

    # Thresholds chosen on the tune half of the labelled calibration photos (bench/calibrate.py, issue 23;
    # the tables in BENCHMARKS.md "Operating points by measurement"), a false yes costing as much as a false no.
    centernet_min_score: float = 0.3  # an object CenterNet alone found
    nanodet_min_score: float = 0.7  # an object NanoDet alone found
    pair_min_score: float = 0.3  # an object both found: its best class score (see fuse)
    guess_min_score: float = 0.3  # another label kept as a guess
    family_guess_min_score: float = 2.0  # another label of the same family kept as a guess (2.0: never)
    faint_min_score: float = UNSURE_FROM  # below its threshold but at least this: a faint object (doubt only)
    nanodet: bool = True
    copy_covered: float = COPY_COVERED  # NanoDet's copies of CenterNet's objects (duplicates()); above 1: none
    tiles: bool = True
    flip: bool = False  # CenterNet's flip test (CenterNetDetector.raw): measured, no better, twice its time


@dataclass(frozen=True)
class Settled:
    """One detector's objects in one image: boxes ``[N, 4]`` xyxy pixels, class scores ``[N, 80]``."""

    boxes: np.ndarray
    scores: np.ndarray

    @property
    def best(self) -> np.ndarray:
        """``[N]`` each object's best score."""
        return self.scores.max(axis=1) if len(self.scores) else np.zeros(0)


class FusedDetector:
    """``detect(images) -> list[Objects]`` with CenterNet (+ tiles) and NanoDet fused; ``device`` cpu/cuda."""

    def __init__(self, device: str = "cpu", options: DetectorOptions = DetectorOptions()):
        self.options = options
        self.centernet = CenterNetDetector(device)
        self.nanodet = NanoDetDetector(device)

    def detect(self, images: Sequence[Image]) -> list[Objects]:
        """Objects per image, best first: COCO labels, boxes in that image's pixels, scores 0..1."""
        return [fuse(*parts, image.size, self.options) for image, parts in zip(images, self.settled(images))]

    def settled(self, images: Sequence[Image]) -> list[tuple[Settled, Settled | None]]:
        """Per image: CenterNet's and NanoDet's (None when off) objects above :data:`FLOOR`."""
        if not images:
            return []
        centernet = [settle(*found) for found in self.centernet.raw(images, FLOOR, NMS_IOU, self.options.tiles,
                                                                        self.options.flip)]
        if not self.options.nanodet:
            return [(found, None) for found in centernet]
        nanodet = [settle(*found) for found in self.nanodet.raw(images, FLOOR)]
        return list(zip(centernet, nanodet))


def settle(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, vectors: np.ndarray) -> Settled:
    """One detector's raw boxes -> objects: class-aware NMS, then boxes of different classes that are one
    object (IoU > ``SAME_OBJECT_IOU``) merged: the best box, the element-wise maximum class scores."""
    keep = non_max_suppression(boxes, scores, NMS_IOU, classes)
    boxes, scores = boxes[keep], scores[keep]
    # a box's own class stays its best (a neighbour's class, e.g. the person beside a kite, can score higher
    # in CenterNet's 3x3 window): the other classes are capped just below it
    vectors = np.minimum(vectors[keep], scores[:, None] * 0.999)
    vectors[np.arange(len(keep)), classes[keep]] = scores
    order, kept, merged = np.argsort(-scores, kind="stable"), [], []
    while len(order):
        best, rest = order[0], order[1:]
        same = box_iou(boxes[best], boxes[rest]) > SAME_OBJECT_IOU
        kept.append(best)
        merged.append(vectors[np.concatenate([[best], rest[same]])].max(axis=0))
        order = rest[~same]
    if not kept:
        return Settled(np.zeros((0, 4)), np.zeros((0, len(COCO_CLASSES))))
    return Settled(boxes[kept], np.stack(merged))


def match(first: Settled, second: Settled) -> list[tuple[int, int]]:
    """One-to-one pairs ``(i, j)`` of the same object, best overlap first: IoU > ``FUSE_IOU`` and some class
    scored at least ``SHARED_CLASS`` by both."""
    if not len(first.boxes) or not len(second.boxes):
        return []
    overlap = np.stack([box_iou(box, second.boxes) for box in first.boxes])
    shared = np.minimum(first.scores[:, None, :], second.scores[None, :, :]).max(axis=2) >= SHARED_CLASS
    candidates = np.argwhere((overlap > FUSE_IOU) & shared)
    pairs, used_first, used_second = [], set(), set()
    for i, j in sorted(candidates.tolist(), key=lambda p: -overlap[p[0], p[1]]):
        if i not in used_first and j not in used_second:
            pairs.append((i, j))
            used_first.add(i)
            used_second.add(j)
    return pairs


def fuse(centernet: Settled, nanodet: Settled | None, size: tuple[int, int],
         options: DetectorOptions = DetectorOptions()) -> Objects:
    """Both detectors' objects -> one Objects (see the module docstring), best first."""
    boxes, scores = [centernet.boxes], [centernet.scores.copy()]
    floors = [np.full(len(centernet.boxes), options.centernet_min_score)]
    if nanodet is not None:
        pairs = match(centernet, nanodet)
        partner = np.full(len(nanodet.boxes), -1)
        for i, j in pairs:
            partner[j] = i
        copies = duplicates(nanodet, centernet, centernet.best >= options.centernet_min_score, partner,
                            options.copy_covered)
        for i, j in pairs:  # CenterNet's box (its 512 px letterboxed view is the more precise one)
            lifted = np.maximum(centernet.scores[i], (centernet.scores[i] + nanodet.scores[j]) / 2)
            if copies[j] and lifted.argmax() != centernet.scores[i].argmax():
                lifted = np.zeros_like(lifted)  # a copy would give CenterNet's box its other object's label
            scores[0][i] = lifted
            floors[0][i] = options.pair_min_score
        alone = np.flatnonzero((partner < 0) & ~copies)
        boxes.append(nanodet.boxes[alone])
        scores.append(nanodet.scores[alone])
        floors.append(np.full(len(alone), options.nanodet_min_score))
    boxes, scores, floors = np.concatenate(boxes), np.concatenate(scores), np.concatenate(floors)
    faint_floors = floors.copy()
    faint_floors[:len(centernet.boxes)] = np.minimum(floors[:len(centernet.boxes)], options.faint_min_score)
    best, classes = (scores.max(axis=1), scores.argmax(axis=1)) if len(scores) else (np.zeros(0), np.zeros(0, int))
    keep = np.flatnonzero(best >= faint_floors)
    keep = keep[non_max_suppression(boxes[keep], best[keep], NMS_IOU, classes[keep])]
    keep = keep[~parts(boxes[keep], classes[keep])]
    sure = best[keep] >= floors[keep]
    present = {COCO_CLASSES[c] for c in classes[keep[sure]]}
    found = [labelled(boxes[k], scores[k], present, options) for k in keep]
    return Objects(tuple(o for o, s in zip(found, sure) if s), size,  # a faint object: its best label, no guesses
                   faint=tuple(o.evolve(guesses=()) for o, s in zip(found, sure) if not s))


def duplicates(nanodet: Settled, centernet: Settled, sure: np.ndarray, partner: np.ndarray,
               covered: float) -> np.ndarray:
    """``[N]`` bool: NanoDet's *copies*, objects of which at least ``covered`` of the area lies under
    CenterNet's ``sure`` boxes of the same best class (leaving out ``partner[j]``, the CenterNet object
    NanoDet's ``j`` is paired with, or -1). CenterNet already found that object and NanoDet framed it
    differently: offset too far to pair, a locomotive beside the whole train, one box around two umbrellas,
    a person's upper body. A lone copy adds no object; a copy paired with a CenterNet box it would relabel
    (a backpack box on that upper body, as a second person) drops the pair; a copy agreeing with its
    partner's own label still confirms it (in a crowd NanoDet's box of a half-hidden person lies partly
    under its neighbours'). Measured on the 302 photos (BENCHMARKS.md, "NanoDet's copies")."""
    copies = np.zeros(len(nanodet.boxes), bool)
    if not len(nanodet.boxes) or not sure.any():
        return copies
    grid = (np.arange(COVER_GRID) + 0.5) / COVER_GRID
    sure_classes = centernet.scores.argmax(axis=1)
    for j, (box, label) in enumerate(zip(nanodet.boxes, nanodet.scores.argmax(axis=1))):
        same = sure & (sure_classes == label)
        if partner[j] >= 0:
            same[partner[j]] = False
        if not same.any():
            continue
        others = centernet.boxes[same]
        xs, ys = box[0] + grid * (box[2] - box[0]), box[1] + grid * (box[3] - box[1])
        inside_x = (xs[None, :] >= others[:, :1]) & (xs[None, :] <= others[:, 2:3])  # [M, G]
        inside_y = (ys[None, :] >= others[:, 1:2]) & (ys[None, :] <= others[:, 3:4])
        copies[j] = (inside_y[:, :, None] & inside_x[:, None, :]).any(axis=0).mean() >= covered
    return copies


def parts(boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``[N]`` bool: a box (best first) lying mostly (> ``PART_INSIDE`` of its area) inside a better box of the
    same class at least ``PART_AREA`` times its size is a part of that object (a bicycle's wheel). People are
    exempt: a small person inside a near person's box is someone standing behind them, not a part."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    part = np.zeros(len(boxes), bool)
    if not len(boxes):
        return part
    for i in range(1, len(boxes)):
        lo, hi = np.maximum(boxes[:i, :2], boxes[i, :2]), np.minimum(boxes[:i, 2:], boxes[i, 2:])
        inside = np.prod(np.clip(hi - lo, 0, None), axis=1) / max(area[i], 1e-9)
        part[i] = classes[i] != PERSON and np.any(
            (classes[:i] == classes[i]) & (inside > PART_INSIDE) & (area[:i] >= PART_AREA * area[i]))
    return part


def labelled(box: np.ndarray, scores: np.ndarray, present: set[str], options: DetectorOptions) -> Obj:
    """One object: its best class as label; as ``guesses`` (best first), the other likely classes that no
    object in the photo is labelled with (so a horse also scored as a dog is no second dog beside a dog)."""
    order = np.argsort(-scores, kind="stable")
    label = COCO_CLASSES[order[0]]
    family = next((f for f in FAMILIES if label in f), frozenset())
    guesses = tuple((COCO_CLASSES[c], round(float(scores[c]), 4)) for c in order[1:]
                    if COCO_CLASSES[c] not in present and scores[c] >= (
                        options.family_guess_min_score if COCO_CLASSES[c] in family else options.guess_min_score))
    return Obj(tuple(box), label, float(scores[order[0]]), guesses=guesses)
