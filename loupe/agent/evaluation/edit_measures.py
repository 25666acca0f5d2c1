"""Pixel measures behind the edit checks (``loupe.agent.evaluation.edits``).

Conventions: images are ``uint8 [H, W, 3]`` RGB arrays; masks are boolean ``[H, W]``; boxes are
``[x1, y1, x2, y2]`` pixels in the input image. A benchmark region is only approximately the object:
its **core** (the box shrunk to its central part) lies on the object, the box **grown** by a margin
holds all of it (and a TAG label drawn above it); the **rest** of the image is outside every grown box.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

PIXEL_TOLERANCE = 12      # a pixel "changed" when any channel differs by more than this (0..255)
REGION_MARGIN = 0.1       # a grown box: 10% of its size per side ...
REGION_MARGIN_PX = 24     # ... plus 24 px (room for a TAG label drawn above its box)
CORE_SHRINK = 0.25        # the core drops this fraction of the box's width/height on each side
COLOURFUL_CHROMA = 12.0   # Lab chroma at or above which a pixel has a colour worth keeping
GREY_CHROMA = 5.0         # Lab chroma at or below which a pixel counts as grey

Box = Sequence[float]


def box_mask(box: Box, width: int, height: int, grow: float = 0.0, grow_px: float = 0.0,
             shrink: float = 0.0) -> np.ndarray:
    """Boolean ``[H, W]`` mask of ``box`` grown by ``grow`` of its size + ``grow_px`` per side, or
    shrunk by ``shrink`` of its size per side (clipped to the image; at least one pixel)."""
    x1, y1, x2, y2 = min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])
    dx = (x2 - x1) * (grow - shrink) + grow_px
    dy = (y2 - y1) * (grow - shrink) + grow_px
    left, right = int(np.clip(np.floor(x1 - dx), 0, width - 1)), int(np.clip(np.ceil(x2 + dx), 1, width))
    top, bottom = int(np.clip(np.floor(y1 - dy), 0, height - 1)), int(np.clip(np.ceil(y2 + dy), 1, height))
    mask = np.zeros((height, width), dtype=bool)
    mask[top:max(bottom, top + 1), left:max(right, left + 1)] = True
    return mask


def grown_mask(regions: Sequence[Box], width: int, height: int) -> np.ndarray:
    """Union of the regions, each grown by the margins."""
    mask = np.zeros((height, width), dtype=bool)
    for box in regions:
        mask |= box_mask(box, width, height, REGION_MARGIN, REGION_MARGIN_PX)
    return mask


def core_mask(box: Box, width: int, height: int) -> np.ndarray:
    """The central part of ``box``: where the object surely is."""
    return box_mask(box, width, height, shrink=CORE_SHRINK)


def changed_pixels(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Boolean ``[H, W]``: where any channel of the two images differs by more than the tolerance."""
    difference = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2)
    return difference > PIXEL_TOLERANCE


def mean_difference(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute channel difference (0..255) over ``mask`` (0 for an empty mask)."""
    if not mask.any():
        return 0.0
    return float(np.abs(before[mask].astype(np.int16) - after[mask].astype(np.int16)).mean())


def chroma(pixels: np.ndarray) -> np.ndarray:
    """``float [H, W]`` Lab chroma (0 for greys, ~20-80 for clear colours)."""
    lab = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.hypot(lab[:, :, 1] - 128.0, lab[:, :, 2] - 128.0)


def detail(pixels: np.ndarray) -> np.ndarray:
    """``float [H, W]`` high-frequency energy: the absolute Laplacian of the grey image."""
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))


def detail_kept(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """``(ratio, energy_before)``: the high-frequency energy over ``mask`` after / before the edit."""
    energy_before = float(detail(before)[mask].mean()) if mask.any() else 0.0
    energy_after = float(detail(after)[mask].mean()) if mask.any() else 0.0
    return (energy_after / energy_before if energy_before > 1e-6 else 1.0), energy_before


def colour_kept(before: np.ndarray, after: np.ndarray, mask: np.ndarray) -> tuple[float | None, float]:
    """``(kept, unchanged)`` over ``mask``: the share of the input's colourful pixels that are still
    at least 60% as colourful (None when fewer than 5% of the pixels have a colour), and the share of
    pixels that did not change at all."""
    if not mask.any():
        return None, 1.0
    c_before, c_after = chroma(before)[mask], chroma(after)[mask]
    colourful = c_before >= COLOURFUL_CHROMA
    unchanged = 1.0 - float(changed_pixels(before, after)[mask].mean())
    if colourful.mean() < 0.05:
        return None, unchanged
    return float((c_after[colourful] >= 0.6 * c_before[colourful]).mean()), unchanged


def grey_share(pixels: np.ndarray, mask: np.ndarray) -> float:
    """The share of the pixels under ``mask`` that are grey (1.0 for an empty mask)."""
    return float((chroma(pixels)[mask] <= GREY_CHROMA).mean()) if mask.any() else 1.0


def locate_crop(before: np.ndarray, after: np.ndarray) -> tuple[tuple[int, int, int, int], float] | None:
    """Where ``after`` (a crop, not resized) lies in ``before``: ``((x1, y1, x2, y2), mean abs diff)``
    of the best match, or None when ``after`` is larger than ``before`` in either side."""
    (h, w), (H, W) = after.shape[:2], before.shape[:2]
    if h > H or w > W:
        return None
    big = cv2.cvtColor(np.ascontiguousarray(before), cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.cvtColor(np.ascontiguousarray(after), cv2.COLOR_RGB2GRAY).astype(np.float32)
    scores = cv2.matchTemplate(big, small, cv2.TM_SQDIFF)
    _, _, (x, y), _ = cv2.minMaxLoc(scores)
    error = float(np.abs(before[y:y + h, x:x + w].astype(np.int16) - after.astype(np.int16)).mean())
    return (x, y, x + w, y + h), error


def box_overlap(box: Box, target: Box) -> tuple[float, float]:
    """``(covered, tightness)``: the share of ``target`` inside ``box`` and ``target``'s area / ``box``'s."""
    ix = max(0.0, min(box[2], target[2]) - max(box[0], target[0]))
    iy = max(0.0, min(box[3], target[3]) - max(box[1], target[1]))
    area_target = max(1e-9, (target[2] - target[0]) * (target[3] - target[1]))
    area_box = max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))
    return ix * iy / area_target, area_target / area_box


def union_box(regions: Sequence[Box]) -> tuple[float, float, float, float]:
    """The smallest box holding every region."""
    boxes = np.asarray(regions, dtype=float).reshape(-1, 4)
    return (float(np.minimum(boxes[:, 0], boxes[:, 2]).min()), float(np.minimum(boxes[:, 1], boxes[:, 3]).min()),
            float(np.maximum(boxes[:, 0], boxes[:, 2]).max()), float(np.maximum(boxes[:, 1], boxes[:, 3]).max()))
