"""The lite tier's COCO detector: CenterNet (whole photo, plus tiles of large photos) fused with NanoDet.

Each detector first settles its own boxes (class-aware NMS, and one label per object); the two sets are
then fused by class-aware NMS: boxes of the same class that overlap by more than ``FUSE_IOU`` are one
object (the higher score is kept).

Last, boxes of different classes that are one object (IoU > ``SAME_OBJECT_IOU``) become one object whose
other labels are kept as ``guesses`` (:func:`tools.lite.detector.objects_from`), so an object CenterNet
calls a sheep and NanoDet a horse is found by LOC for either name and counted once.

Options and thresholds were chosen by measurement on real photos (BENCHMARKS.md, issue 12): by default
CenterNet 0.25 with tiles; NanoDet (``DetectorOptions(nanodet_min_score=0.3)``) finds the horse and the
pickup truck of the darknet photos but costs accuracy on the benchmark's photos, so it is opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from programs.values import Image, Objects
from tools.lite.detector import DEFAULT_IOU, SAME_OBJECT_IOU, CenterNetDetector, non_max_suppression, objects_from
from tools.lite.nanodet import NanoDetDetector

FUSE_IOU = 0.5


@dataclass(frozen=True)
class DetectorOptions:
    """Which parts run and their score thresholds (0..1; a detector with threshold > 1 is off)."""

    centernet_min_score: float = 0.25
    nanodet_min_score: float = 2.0  # off: on the benchmark photos it added more false boxes than found ones
    tiles: bool = True


class FusedDetector:
    """``detect(images) -> list[Objects]`` with CenterNet (+ tiles) and NanoDet fused; ``device`` cpu/cuda."""

    def __init__(self, device: str = "cpu", options: DetectorOptions = DetectorOptions()):
        self.options = options
        self.centernet = CenterNetDetector(device)
        self.nanodet = NanoDetDetector(device)

    def detect(self, images: Sequence[Image]) -> list[Objects]:
        """Objects per image, best first: COCO labels, boxes in that image's pixels, scores 0..1."""
        if not images:
            return []
        options = self.options
        parts = [self.centernet.raw(images, options.centernet_min_score, tiles=options.tiles)]
        if options.nanodet_min_score <= 1:
            parts.append([settle(*found) for found in self.nanodet.raw(images, options.nanodet_min_score)])
        found = []
        for i, image in enumerate(images):
            boxes, scores, classes = (np.concatenate([part[i][k] for part in parts]) for k in range(3))
            keep = non_max_suppression(boxes, scores, FUSE_IOU, classes)
            found.append(objects_from(boxes[keep], scores[keep], classes[keep], image.size))
        return found


def settle(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray):
    """One detector's raw boxes -> class-aware NMS, then one label per object (best of IoU > 0.8)."""
    keep = non_max_suppression(boxes, scores, DEFAULT_IOU, classes)
    keep = keep[non_max_suppression(boxes[keep], scores[keep], SAME_OBJECT_IOU)]
    return boxes[keep], scores[keep], classes[keep]
