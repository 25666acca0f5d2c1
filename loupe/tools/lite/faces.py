"""Face detection with the lite pack's BlazeFace (MediaPipe's 256x256 "back camera" model).

The graph takes RGB ``[B, 256, 256, 3]`` float32 in -1..1 and gives, for 896 SSD anchors, logits
(``Identity:0`` ``[B, 512, 1]`` for the 16x16 grid, ``Identity_1:0`` ``[B, 384, 1]`` for the 8x8 grid)
and regressions (``Identity_2:0`` ``[B, 512, 16]``, ``Identity_3:0`` ``[B, 384, 16]``): box centre x, y,
width, height, then six keypoints, all in input pixels relative to the anchor centre.

A 256-pixel view of a large photo shrinks small faces below what the model sees, so each image is
also cut into overlapping tiles at finer scales (a pyramid); every view of every image runs in one
batch and the detections are mapped back to the image and merged with NMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from loupe.programs.values import Image, Objects
from loupe.tools.lite.detector import letterbox, non_max_suppression
from loupe.tools.lite.pack import graph_output, load_lite_graph

INPUT_SIZE = 256
DEFAULT_MIN_SCORE = 0.6
MERGE_IOU = 0.3
TILE_OVERLAP = 0.25
MAX_LEVELS = 2  # chosen on the calibration photos' tune half (bench/calibrate.py)
EDGE_MARGIN = 0.02
LARGEST_FACE_IN_TILE = 0.45


def ssd_anchor_centres(input_size: int, strides: Sequence[int], per_layer: int = 2) -> np.ndarray:
    """MediaPipe SSD anchor centres ``[N, 2]`` (x, y in 0..1) for fixed-size anchors.

    Consecutive layers with the same stride share one grid; each grid cell holds ``per_layer``
    anchors for every layer of the group. Order: group, then row, column, anchor.
    """
    centres, layer = [], 0
    while layer < len(strides):
        end = layer
        while end < len(strides) and strides[end] == strides[layer]:
            end += 1
        cells = int(np.ceil(input_size / strides[layer]))
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([xs, ys], axis=-1).reshape(-1, 1, 2)
        grid = np.repeat(grid, per_layer * (end - layer), axis=1).reshape(-1, 2)
        centres.append((grid + 0.5) / cells)
        layer = end
    return np.concatenate(centres).astype(np.float64)


BACK_MODEL_ANCHORS_STRIDES = (16, 32, 32, 32)


def decode_blazeface(logits: np.ndarray, regressions: np.ndarray, anchors: np.ndarray,
                     min_score: float, input_size: int = INPUT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """One view's ``logits`` ``[N]`` and ``regressions`` ``[N, 16]`` -> boxes ``[M, 4]`` xyxy in 0..1, scores."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))
    hit = scores >= min_score
    raw = regressions[hit, :4].astype(np.float64) / input_size
    centre = anchors[hit] + raw[:, :2]
    half = raw[:, 2:4] / 2
    return np.concatenate([centre - half, centre + half], axis=1), scores[hit]


@dataclass(frozen=True)
class View:
    """A square window ``(x, y, side)`` of image ``index`` in original pixels, seen at 256x256."""

    index: int
    x: float
    y: float
    side: float
    whole: bool

    def crop(self, pixels: np.ndarray) -> np.ndarray:
        """The window's pixels, float32 ``[256, 256, 3]`` in 0..255 (zero beyond the image)."""
        x, y, side = int(self.x), int(self.y), int(np.ceil(self.side))
        window = pixels[max(y, 0):y + side, max(x, 0):x + side]
        canvas = np.zeros((side, side, 3), dtype=np.uint8)
        canvas[max(-y, 0):max(-y, 0) + window.shape[0], max(-x, 0):max(-x, 0) + window.shape[1]] = window
        return letterbox(canvas, INPUT_SIZE)[0]


def pyramid_views(index: int, width: int, height: int) -> list[View]:
    """The whole image (centred square) plus overlapping square tiles at finer scales."""
    side = max(width, height)
    views = [View(index, (width - side) / 2, (height - side) / 2, side, True)]
    tile = min(width, height)
    for _ in range(MAX_LEVELS - 1):
        if tile < INPUT_SIZE * 1.2:
            break
        views += [View(index, x, y, tile, False) for y in _starts(height, tile) for x in _starts(width, tile)]
        tile /= 2
    return views


def _starts(length: float, tile: float) -> list[float]:
    """Tile origins covering ``length`` with about ``TILE_OVERLAP`` overlap."""
    count = max(1, int(np.ceil((length - tile) / (tile * (1 - TILE_OVERLAP)))) + 1)
    return list(np.linspace(0, max(length - tile, 0), count))


def _keep_in_view(boxes: np.ndarray, view: View) -> np.ndarray:
    """Tile detections cut by the tile's edge, or too big for the tile, are left to coarser views."""
    if view.whole:
        return np.ones(len(boxes), dtype=bool)
    inside = np.all((boxes > EDGE_MARGIN) & (boxes < 1 - EDGE_MARGIN), axis=1)
    small = np.max(boxes[:, 2:] - boxes[:, :2], axis=1) < LARGEST_FACE_IN_TILE
    return inside & small


class FaceDetector:
    """Finds faces (label "face"). Loads its graph on first use; ``device`` is "cpu" or "cuda"."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._graph = None
        self._anchors = ssd_anchor_centres(INPUT_SIZE, BACK_MODEL_ANCHORS_STRIDES)

    def detect(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE) -> list[Objects]:
        """Faces in each image, boxes in that image's pixels, scores in 0..1 (all views in one batch)."""
        if not images:
            return []
        views = [v for i, image in enumerate(images) for v in pyramid_views(i, image.width, image.height)]
        batch = np.stack([v.crop(images[v.index].pixels) for v in views]) / 127.5 - 1.0
        logits, regressions = self._forward(batch.astype(np.float32))
        found = [([], []) for _ in images]
        for view, view_logits, view_regressions in zip(views, logits, regressions):
            boxes, scores = decode_blazeface(view_logits, view_regressions, self._anchors, min_score)
            keep = _keep_in_view(boxes, view)
            found[view.index][0].append(boxes[keep] * view.side + [view.x, view.y, view.x, view.y])
            found[view.index][1].append(scores[keep])
        return [self._merge(image, *found[i]) for i, image in enumerate(images)]

    @staticmethod
    def _merge(image: Image, boxes: list, scores: list) -> Objects:
        boxes, scores = np.concatenate(boxes).reshape(-1, 4), np.concatenate(scores)
        keep = non_max_suppression(boxes, scores, MERGE_IOU)
        boxes = np.clip(boxes[keep], 0, [image.width, image.height, image.width, image.height])
        return Objects.from_arrays(boxes, scores[keep], ["face"] * len(keep), image.size)

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, 256, 256, 3]`` in -1..1 -> logits ``[B, 896]``, regressions ``[B, 896, 16]``."""
        import torch

        if self._graph is None:
            self._graph = load_lite_graph("blazeface", self.device)
        with torch.inference_mode():
            out = self._graph(torch.from_numpy(batch).to(self.device))
        pieces = [graph_output(out, name).float().cpu().numpy()
                  for name in ("Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0")]
        return np.concatenate(pieces[:2], axis=1)[..., 0], np.concatenate(pieces[2:], axis=1)


STRONG_FACE = 0.8  # kept on its own (calibrated: bench/calibrate.py)
WEAK_FACE = 0.4  # kept only as the face of a detected person (small or turned faces in group photos)


def faces_on_people(faces: Objects, objects: Objects) -> Objects:
    """The faces worth reporting, best first: every face scoring at least ``STRONG_FACE``, and a weaker
    one (at least ``WEAK_FACE``) when its centre lies in the upper half of a person's box (from the object
    detector) that no better face has claimed: one face per person. An animal's face (a dog's, 0.66) has
    no person around it; a small face at the back of a group photo (0.34) has its own person; a hand
    or a shirt print on a person whose face was already found is not a second face.
    """
    people = [o.box for o in objects if o.label == "person"]
    claimed: set[int] = set()
    kept = []
    for face in sorted(faces, key=lambda f: -f.score):
        x, y = face.center
        around = [i for i, (x1, y1, x2, y2) in enumerate(people) if x1 <= x <= x2 and y1 <= y <= y2]
        free = [i for i in around if i not in claimed and y <= (people[i][1] + people[i][3]) / 2]
        if face.score >= STRONG_FACE or (face.score >= WEAK_FACE and free):
            kept.append(face)
            claimed.update(around)  # every box around it: the detectors may give one person several
    return faces.with_items(kept)
