"""COCO object detection with the lite pack's CenterNet (MobileNetV3 backbone, 512x512 input).

The graph takes RGB ``[B, 512, 512, 3]`` float32 in 0..255 and gives, at stride 4, a class heatmap
``tower_0/keypoints`` ``[B, 128, 128, 80]`` (sigmoid scores) and ``tower_0/wh`` ``[B, 128, 128, 4]``:
distances in input pixels from the cell's centre to the box's left, top, right and bottom sides.
(Its own ``tower_0/detections`` head is fixed to batch 1, so peaks are decoded here, in numpy.)
Each image is letterboxed (aspect kept, centred, zero padding) and boxes are mapped back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from programs.values import Image, Objects
from tools.lite.coco import COCO_CLASSES
from tools.lite.pack import graph_output, load_lite_graph

INPUT_SIZE = 512
STRIDE = 4
DEFAULT_MIN_SCORE = 0.25
DEFAULT_IOU = 0.5
SAME_OBJECT_IOU = 0.8
MAX_PEAKS = 100


@dataclass(frozen=True)
class Letterbox:
    """How an image was placed in a square input: ``input = original * scale + (offset_x, offset_y)``."""

    scale: float
    offset_x: float
    offset_y: float

    def to_original(self, boxes: np.ndarray, width: int, height: int) -> np.ndarray:
        """``[N, 4]`` xyxy boxes in input pixels -> original image pixels, clipped to the image."""
        offset = np.array([self.offset_x, self.offset_y, self.offset_x, self.offset_y])
        boxes = (np.asarray(boxes, dtype=np.float64).reshape(-1, 4) - offset) / self.scale
        return np.clip(boxes, 0, [width, height, width, height])


def letterbox(pixels: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Resize ``uint8 [H, W, 3]`` to fit ``size`` x ``size`` (aspect kept), centred on black.

    Returns float32 ``[size, size, 3]`` in 0..255 and the placement.
    """
    from PIL import Image as PILImage

    height, width = pixels.shape[:2]
    scale = size / max(width, height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = PILImage.fromarray(np.ascontiguousarray(pixels)).resize((new_w, new_h), PILImage.BILINEAR)
    canvas = np.zeros((size, size, 3), dtype=np.float32)
    left, top = (size - new_w) // 2, (size - new_h) // 2
    canvas[top:top + new_h, left:left + new_w] = np.asarray(resized, dtype=np.float32)
    return canvas, Letterbox(scale, left, top)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy ``box`` ``[4]`` with each of ``boxes`` ``[N, 4]``; ``[N]``."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float,
                        classes: np.ndarray | None = None) -> np.ndarray:
    """Indices of the boxes kept, best score first; with ``classes``, only same-class boxes suppress."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep = []
    while len(order):
        best, rest = order[0], order[1:]
        keep.append(best)
        overlap = box_iou(boxes[best], boxes[rest]) > iou
        if classes is not None:
            overlap &= np.asarray(classes)[rest] == classes[best]
        order = rest[~overlap]
    return np.array(keep, dtype=np.int64)


def decode_centernet(heatmap: np.ndarray, sides: np.ndarray, min_score: float,
                     max_peaks: int = MAX_PEAKS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peaks of one image's ``heatmap`` ``[h, w, C]`` with ``sides`` ``[h, w, 4]`` -> detections.

    A peak is a cell that is the maximum of its 3x3 neighbourhood in its class. Returns boxes ``[N, 4]``
    xyxy in input pixels, scores ``[N]`` and class indices ``[N]``, best first.
    """
    padded = np.pad(heatmap, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    height, width = heatmap.shape[:2]
    local_max = np.max([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)], axis=0)
    peak_scores = np.where(heatmap >= local_max, heatmap, 0.0).reshape(-1)
    top = np.argsort(-peak_scores, kind="stable")[:max_peaks]
    top = top[peak_scores[top] >= min_score]
    cell, classes = np.divmod(top, heatmap.shape[2])
    ys, xs = np.divmod(cell, width)
    centres = np.stack([xs, ys, xs, ys], axis=1).astype(np.float64) * STRIDE
    offsets = sides[ys, xs].astype(np.float64) * np.array([-1, -1, 1, 1])
    return centres + offsets, peak_scores[top].astype(np.float64), classes


def _other_guesses(boxes, scores, classes, kept, index) -> tuple[tuple[str, float], ...]:
    """The other labels (and scores) of the ``kept`` boxes that are the same object as box ``index``."""
    same = kept[(box_iou(boxes[index], boxes[kept]) > SAME_OBJECT_IOU) & (classes[kept] != classes[index])]
    return tuple((COCO_CLASSES[classes[i]], round(float(scores[i]), 4)) for i in same)


class CenterNetDetector:
    """Finds the 80 COCO classes. Loads its graph on first use; ``device`` is "cpu" or "cuda"."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._graph = None

    def detect(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE,
               iou: float = DEFAULT_IOU) -> list[Objects]:
        """Objects in each image: COCO labels, boxes in that image's pixels, scores in 0..1.

        All images go through the network as one batch; overlapping boxes of the same class with
        IoU above ``iou`` are merged (class-aware NMS); then a box that overlaps a better box of
        another class by more than ``SAME_OBJECT_IOU`` is dropped (one object, two label guesses, e.g. a
        horse also scored as a cow): its label is kept in the better box's ``guesses``, so that asking
        for a horse still finds it. ``min_score`` 0.25 was tuned on the test photos: 0.2 finds
        partly hidden objects but adds clutter (bins as cars), 0.3 starts missing real ones.
        """
        if not images:
            return []
        placed = [letterbox(image.pixels, INPUT_SIZE) for image in images]
        heatmaps, sides = self._forward(np.stack([canvas for canvas, _ in placed]))
        return [self._objects(image, where, heatmaps[i], sides[i], min_score, iou)
                for i, (image, (_, where)) in enumerate(zip(images, placed))]

    @staticmethod
    def _objects(image: Image, where: Letterbox, heatmap, sides, min_score, iou) -> Objects:
        boxes, scores, classes = decode_centernet(heatmap, sides, min_score)
        keep = non_max_suppression(boxes, scores, iou, classes)
        best = keep[non_max_suppression(boxes[keep], scores[keep], SAME_OBJECT_IOU)]
        guesses = [_other_guesses(boxes, scores, classes, keep, i) for i in best]
        found = Objects.from_arrays(where.to_original(boxes[best], image.width, image.height), scores[best],
                                    [COCO_CLASSES[c] for c in classes[best]], image.size)
        return found.with_items(o.evolve(guesses=g) for o, g in zip(found, guesses))

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, 512, 512, 3]`` float32 -> heatmaps ``[B, 128, 128, 80]``, sides ``[B, 128, 128, 4]``."""
        import torch

        if self._graph is None:
            self._graph = load_lite_graph("centernet", self.device)
        with torch.inference_mode():
            outputs = self._graph(torch.from_numpy(batch).to(self.device))
        heatmaps = graph_output(outputs, "tower_0/keypoints")
        sides = graph_output(outputs, "tower_0/wh")
        return heatmaps.float().cpu().numpy(), sides.float().cpu().numpy()
