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

from loupe.programs.values import Image, Objects
from loupe.tools.lite.coco import COCO_CLASSES
from loupe.tools.lite.pack import graph_output, load_lite_graph

INPUT_SIZE = 512
STRIDE = 4
DEFAULT_MIN_SCORE = 0.25
DEFAULT_IOU = 0.5
SAME_OBJECT_IOU = 0.8
MAX_PEAKS = 100
OUTPUTS = ("tower_0/keypoints", "tower_0/wh")  # the graph's own "tower_0/detections" head is not run
TILE_TRIGGER = 1.25  # tiles only for photos whose longer side exceeds the input by this factor
TILE_MAX_SIDE = 1024  # tiles of larger photos see them scaled to this longer side (see tile_boxes)
REDUCING_GAP = 2.0  # Pillow first shrinks by a whole factor where the scale allows it (see Image.resize): a
# 12-megapixel photo to 512 px in 29 ms instead of 70, within 3 grey levels; below 2048 px it changes nothing
EDGE_MARGIN = 4  # pixels: a tile box this close to an inner tile edge is cut off by it


def tile_boxes(width: int, height: int, size: int = INPUT_SIZE, trigger: float = TILE_TRIGGER,
               max_side: int = TILE_MAX_SIDE) -> list[tuple[int, int, int, int]]:
    """Overlapping square windows ``(x1, y1, x2, y2)`` covering a ``width`` x ``height`` photo (evenly spaced,
    at least 1/8 overlap), or none when its longer side is at most ``trigger * size`` (the whole view already
    sees it at nearly full resolution). A window is ``size`` pixels (full resolution) on photos up to
    ``max_side``; on larger ones it is as large as ``size`` pixels of the photo scaled to ``max_side``
    (the network input then scales it down), so that a 12-megapixel photo takes 6 windows, not 63."""
    if max(width, height) <= trigger * size:
        return []
    size = max(size, int(np.ceil(size * max(width, height) / max_side)))

    def starts(length: int) -> list[int]:
        if length <= size:
            return [0]
        count = int(np.ceil((length - size / 8) / (size * 7 / 8)))
        return [round(k * (length - size) / max(count - 1, 1)) for k in range(max(count, 2))]

    return [(x, y, min(x + size, width), min(y + size, height)) for y in starts(height) for x in starts(width)]


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
    resized = PILImage.fromarray(np.ascontiguousarray(pixels)).resize((new_w, new_h), PILImage.BILINEAR,
                                                                           reducing_gap=REDUCING_GAP)
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


def local_maxima(heatmap: np.ndarray) -> np.ndarray:
    """Each cell's maximum over its 3x3 neighbourhood (per channel) of ``[h, w, C]``, as two separable
    passes of element-wise maxima (about 7x faster than a 3x3 max-pool over a 128x128x80 map)."""
    padded = np.pad(heatmap, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    rows = np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])
    return np.maximum(np.maximum(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def decode_centernet(heatmap: np.ndarray, sides: np.ndarray, min_score: float,
                     max_peaks: int = MAX_PEAKS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Peaks of one image's ``heatmap`` ``[h, w, C]`` with ``sides`` ``[h, w, 4]`` -> detections.

    A peak is a cell that is the maximum of its 3x3 neighbourhood in its class. Returns the ``max_peaks``
    best peaks scoring at least ``min_score``: boxes ``[N, 4]`` xyxy in input pixels, scores ``[N]``, class
    indices ``[N]``, best first (ties: in cell then class order), and each peak's class scores ``[N, C]``
    (every class's 3x3 maximum around the peak: the other labels it might have).
    """
    width, channels = heatmap.shape[1], heatmap.shape[2]
    local_max = local_maxima(heatmap)
    flat = heatmap.reshape(-1)
    candidates = np.flatnonzero((flat >= min_score) & (flat >= local_max.reshape(-1)))
    top = candidates[np.argsort(-flat[candidates], kind="stable")[:max_peaks]]
    cell, classes = np.divmod(top, channels)
    ys, xs = np.divmod(cell, width)
    centres = np.stack([xs, ys, xs, ys], axis=1).astype(np.float64) * STRIDE
    offsets = sides[ys, xs].astype(np.float64) * np.array([-1, -1, 1, 1])
    return centres + offsets, flat[top].astype(np.float64), classes, local_max[ys, xs].astype(np.float64)


def _other_guesses(boxes, scores, classes, kept, index) -> tuple[tuple[str, float], ...]:
    """The other labels (and scores) of the ``kept`` boxes that are the same object as box ``index``."""
    same = kept[(box_iou(boxes[index], boxes[kept]) > SAME_OBJECT_IOU) & (classes[kept] != classes[index])]
    return tuple((COCO_CLASSES[classes[i]], round(float(scores[i]), 4)) for i in same)


def objects_from(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, size) -> Objects:
    """Class-aware-NMS'd detections -> Objects with one label per object: a box that overlaps a better box of
    another class by more than ``SAME_OBJECT_IOU`` is the same object, and its label is kept in the better
    box's ``guesses`` (so asking for a horse still finds the horse also scored as a sheep)."""
    every = np.arange(len(scores))
    best = non_max_suppression(boxes, scores, SAME_OBJECT_IOU)
    guesses = [_other_guesses(boxes, scores, classes, every, i) for i in best]
    found = Objects.from_arrays(boxes[best], scores[best], [COCO_CLASSES[c] for c in classes[best]], size)
    return found.with_items(o.evolve(guesses=g) for o, g in zip(found, guesses))


class CenterNetDetector:
    """Finds the 80 COCO classes. Loads its graph on first use; ``device`` is "cpu" or "cuda"."""

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._graph = None

    def detect(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE,
               iou: float = DEFAULT_IOU, tiles: bool = False) -> list[Objects]:
        """Objects in each image: COCO labels, boxes in that image's pixels, scores in 0..1.

        All views go through the network as one batch; overlapping boxes of the same class with
        IoU above ``iou`` are merged (class-aware NMS); then a box that overlaps a better box of
        another class by more than ``SAME_OBJECT_IOU`` is dropped (one object, two label guesses, e.g. a
        horse also scored as a cow): its label is kept in the better box's ``guesses``, so that asking
        for a horse still finds it. ``min_score`` 0.25 was tuned on the test photos: 0.2 finds
        partly hidden objects but adds clutter (bins as cars), 0.3 starts missing real ones.
        ``tiles``: also look at overlapping full-resolution tiles of photos larger than the input
        (see :func:`tile_boxes`), fused with the whole view by class-aware NMS.
        """
        return [objects_from(*found[:3], image.size) for image, found in
                zip(images, self.raw(images, min_score, iou, tiles))]

    def raw(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE, iou: float = DEFAULT_IOU,
            tiles: bool = False, flip: bool = False) -> list[tuple[np.ndarray, ...]]:
        """Per image: boxes ``[N, 4]`` xyxy in its pixels, scores ``[N]``, class indices ``[N]``, best first,
        and class scores ``[N, 80]`` (see :func:`decode_centernet`); after class-aware NMS, so one object
        may still carry boxes of two classes (see :func:`objects_from`). ``flip``: each view's maps are the
        mean of its own and its mirror image's, mirrored back (CenterNet's flip test; twice the network
        time)."""
        if not images:
            return []
        views = [(i, (0, 0, image.width, image.height)) for i, image in enumerate(images)]
        if tiles:
            views += [(i, box) for i, image in enumerate(images) for box in tile_boxes(image.width, image.height)]
        placed = [letterbox(images[i].crop(box).pixels, INPUT_SIZE) for i, box in views]
        heatmaps, sides = self._forward(np.stack([canvas for canvas, _ in placed]))
        if flip:
            mirrored, mirrored_sides = self._forward(np.stack([canvas[:, ::-1] for canvas, _ in placed]))
            heatmaps = (heatmaps + mirrored[:, :, ::-1]) / 2
            sides = (sides + mirrored_sides[:, :, ::-1][..., [2, 1, 0, 3]]) / 2
        pooled = [([], [], [], []) for _ in images]
        for v, ((i, box), (_, where)) in enumerate(zip(views, placed)):
            found = self._decode(images[i], box, where, heatmaps[v], sides[v], min_score, iou)
            for store, part in zip(pooled[i], found):
                store.append(part)
        results = []
        for parts in pooled:
            boxes, scores, classes, vectors = (np.concatenate(part) for part in parts)
            keep = non_max_suppression(boxes, scores, iou, classes) if tiles else np.arange(len(scores))
            results.append((boxes[keep], scores[keep], classes[keep], vectors[keep]))
        return results

    @staticmethod
    def _decode(image: Image, view, where: Letterbox, heatmap, sides, min_score, iou):
        """One view's detections in the whole image's pixels; tile boxes cut by the tile's inner edges
        (the object runs on into the next tile) are dropped."""
        found = decode_centernet(heatmap, sides, min_score)
        keep = non_max_suppression(found[0], found[1], iou, found[2])
        boxes, scores, classes, vectors = (part[keep] for part in found)
        x1, y1, x2, y2 = view
        boxes = where.to_original(boxes, x2 - x1, y2 - y1) + np.array([x1, y1, x1, y1])
        if (x2 - x1, y2 - y1) != image.size:
            edge = EDGE_MARGIN * max(x2 - x1, y2 - y1) / INPUT_SIZE
            cut = ((boxes[:, 0] < x1 + edge) & (x1 > 0)) | ((boxes[:, 1] < y1 + edge) & (y1 > 0)) | \
                ((boxes[:, 2] > x2 - edge) & (x2 < image.width)) | ((boxes[:, 3] > y2 - edge) & (y2 < image.height))
            return boxes[~cut], scores[~cut], classes[~cut], vectors[~cut]
        return boxes, scores, classes, vectors

    def _forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[B, 512, 512, 3]`` float32 -> heatmaps ``[B, 128, 128, 80]``, sides ``[B, 128, 128, 4]``. On the CPU
        the views go through one at a time: a batch is slower per view there (7 views: 800 ms batched,
        600 ms one by one on 2 cores) and needs its activations all at once."""
        import torch

        if self._graph is None:
            self._graph = load_lite_graph("centernet", self.device, outputs=OUTPUTS)
        chunk = 1 if torch.device(self.device).type == "cpu" else len(batch)
        heatmaps, sides = [], []
        with torch.inference_mode():
            for start in range(0, len(batch), chunk):
                outputs = self._graph(torch.from_numpy(batch[start:start + chunk]).to(self.device))
                heatmap, side = (graph_output(outputs, name) for name in OUTPUTS)
                heatmaps.append(heatmap.float().cpu().numpy())
                sides.append(side.float().cpu().numpy())
        return np.concatenate(heatmaps), np.concatenate(sides)
