"""COCO object detection with the lite pack's NanoDet (ShuffleNetV2 backbone, GFL head, 416x416 input).

The graph takes RGB ``[B, 3, 416, 416]`` float32 in 0..1 (the whole photo stretched to the square, as the
``human`` library feeds it) and gives, for each of the strides 8, 16 and 32 (grids 52, 26, 13), class
scores ``[B, g*g, 80]`` (already sigmoid) and box distributions ``[B, g*g, 44]``: for the left, top,
right and bottom sides, 11 logits over distances 0..10 strides from the cell's centre (GFL's
"general distribution"; the distance is the softmax expectation).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from loupe.programs.values import Image, Objects
from loupe.tools.lite.coco import COCO_CLASSES
from loupe.tools.lite.detector import REDUCING_GAP
from loupe.tools.lite.pack import graph_output, load_lite_graph

INPUT_SIZE = 416
BINS = 11
# (stride in input pixels, output with class scores, output with side distributions)
HEADS = ((8, "Identity", "Identity_3"), (16, "Identity_1", "Identity_4"), (32, "Identity_2", "Identity_5"))


def decode_nanodet(scores: Sequence[np.ndarray], sides: Sequence[np.ndarray], min_score: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One image's heads -> boxes ``[N, 4]`` xyxy in input pixels, scores ``[N]``, class indices ``[N]``
    and the cell's class scores ``[N, 80]`` (the other labels the box might have).

    ``scores[k]`` is ``[g*g, 80]`` and ``sides[k]`` ``[g*g, 44]`` for head ``k`` of :data:`HEADS`. Every
    (cell, class) pair scoring at least ``min_score`` is a detection (NMS is the caller's).
    """
    boxes, kept_scores, classes, vectors = [], [], [], []
    for (stride, _, _), score, side in zip(HEADS, scores, sides):
        cells, cls = np.nonzero(score >= min_score)
        if not len(cells):
            continue
        grid = INPUT_SIZE // stride
        logits = side[cells].reshape(-1, 4, BINS).astype(np.float64)
        weights = np.exp(logits - logits.max(axis=2, keepdims=True))
        distance = (weights / weights.sum(axis=2, keepdims=True)) @ np.arange(BINS) * stride  # [n, 4]
        ys, xs = np.divmod(cells, grid)
        centres = np.stack([xs, ys, xs, ys], axis=1).astype(np.float64) * stride
        boxes.append(centres + distance * np.array([-1, -1, 1, 1]))
        kept_scores.append(score[cells, cls].astype(np.float64))
        classes.append(cls)
        vectors.append(score[cells].astype(np.float64))
    if not boxes:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, scores[0].shape[-1]))
    return tuple(np.concatenate(part) for part in (boxes, kept_scores, classes, vectors))


class NanoDetDetector:
    """Raw NanoDet detections (before NMS). Loads its graph on first use; ``device`` "cpu" or "cuda"."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._graph = None

    def raw(self, images: Sequence[Image], min_score: float) -> list[tuple[np.ndarray, ...]]:
        """Per image: boxes ``[N, 4]`` xyxy in that image's pixels, scores ``[N]``, class indices ``[N]``,
        class scores ``[N, 80]``."""
        from PIL import Image as PILImage

        if not images:
            return []
        batch = np.stack([
            np.asarray(image.to_pil().resize((INPUT_SIZE, INPUT_SIZE), PILImage.BILINEAR, reducing_gap=REDUCING_GAP),
                       dtype=np.float32)
            .transpose(2, 0, 1) / 255.0 for image in images])
        outputs = self._forward(batch)
        found = []
        for i, image in enumerate(images):
            boxes, *rest = decode_nanodet([o[i] for o in outputs[0]], [o[i] for o in outputs[1]], min_score)
            scale = np.array([image.width, image.height] * 2, dtype=np.float64) / INPUT_SIZE
            found.append((np.clip(boxes * scale, 0, [image.width, image.height] * 2), *rest))
        return found

    def detect(self, images: Sequence[Image], min_score: float = 0.3) -> list[Objects]:
        """Objects per image after class-aware NMS (for inspection; LOC fuses :meth:`raw` with CenterNet)."""
        from loupe.tools.lite.detector import DEFAULT_IOU, non_max_suppression

        found = []
        for image, (boxes, scores, classes, _) in zip(images, self.raw(images, min_score)):
            keep = non_max_suppression(boxes, scores, DEFAULT_IOU, classes)
            found.append(Objects.from_arrays(boxes[keep], scores[keep], [COCO_CLASSES[c] for c in classes[keep]],
                                             image.size))
        return found

    def _forward(self, batch: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``[B, 3, 416, 416]`` -> (class scores per head ``[B, g*g, 80]``, sides per head ``[B, g*g, 44]``)."""
        import torch

        if self._graph is None:
            self._graph = load_lite_graph("nanodet", self.device)
        with torch.inference_mode():
            outputs = self._graph(torch.from_numpy(np.ascontiguousarray(batch)).to(self.device))
        scores = [graph_output(outputs, name).float().cpu().numpy() for _, name, _ in HEADS]
        sides = [graph_output(outputs, name).float().cpu().numpy() for _, _, name in HEADS]
        return scores, sides
