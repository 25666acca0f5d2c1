"""SEG on the lite tier: every detected object with a pixel mask.

People get the selfie model's foreground mask, run on a crop around each person and kept inside their
(slightly enlarged) box; other objects a GrabCut mask seeded from their box. ``SEG(image=IMAGE)`` segments everything the detector found.
"""

from __future__ import annotations

import cv2
import numpy as np

from programs.values import Image, Obj, Objects
from tools.lite.backends.base import LiteBackend
from programs.values import clip_box

GRABCUT_ITERATIONS = 3
GRABCUT_MAX_SIDE = 200      # GrabCut runs on the box's neighbourhood scaled to at most this many pixels
MAX_GRABCUT_OBJECTS = 12    # objects beyond this (lowest scores) keep box masks
PERSON_BOX_MARGIN = 0.05
PERSON_CROP_MARGIN = 0.25  # the person model sees the person with this much context around


class LiteSegmenter(LiteBackend):
    def run_batch(self, calls):
        images = [call["image"] for call in calls]
        detections = self.vision.objects(images)
        people = [(image, obj) for image, found in zip(images, detections) for obj in found if obj.label == "person"]
        masks = person_masks(self.vision.segmenter, people)
        return [segment(image, found, masks) for image, found in zip(images, detections)]


def person_masks(segmenter, people: list[tuple[Image, Obj]]) -> dict[int, np.ndarray]:
    """``id(obj)`` -> boolean mask: the person model run on a crop around each person, all in one batch
    (a person 30 px tall in a 640 px photo is lost at the model's 256 px input; a crop keeps detail)."""
    regions = [clip_box(_grown(obj.box, PERSON_CROP_MARGIN), image.width, image.height) for image, obj in people]
    crops = [image.crop(region) for (image, _), region in zip(people, regions)]
    masks = {}
    for (image, obj), (x1, y1, x2, y2), probability in zip(people, regions, segmenter.segment(crops)):
        mask = np.zeros((image.height, image.width), dtype=bool)
        mask[y1:y2, x1:x2] = probability > 0.5
        masks[id(obj)] = mask & _box_mask(obj, image, PERSON_BOX_MARGIN)
    return masks


def segment(image: Image, objects: Objects, person_masks: dict[int, np.ndarray]) -> Objects:
    ranked = sorted(range(len(objects)), key=lambda i: -objects[i].score)
    grabcut = set(ranked[:MAX_GRABCUT_OBJECTS])
    masked = []
    for i, obj in enumerate(objects):
        if id(obj) in person_masks:
            mask = person_masks[id(obj)]
        elif i in grabcut:
            mask = grabcut_mask(image, obj)
        else:
            mask = _box_mask(obj, image, 0.0)
        if not mask.any():
            mask = _box_mask(obj, image, 0.0)
        masked.append(obj.evolve(mask=mask))
    return objects.with_items(masked)


def _grown(box, margin: float) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    return max(0.0, x1 - dx), max(0.0, y1 - dy), x2 + dx, y2 + dy


def _box_mask(obj: Obj, image: Image, margin: float) -> np.ndarray:
    return Obj(_grown(obj.box, margin)).region_mask(image.width, image.height)


def grabcut_mask(image: Image, obj: Obj) -> np.ndarray:
    """Boolean ``[H, W]`` mask of the object inside its box, by GrabCut on a downscaled neighbourhood."""
    width, height = image.size
    x1, y1, x2, y2 = clip_box(obj.box, width, height)
    pad_x, pad_y = max(2, (x2 - x1) // 8), max(2, (y2 - y1) // 8)
    cx1, cy1, cx2, cy2 = max(0, x1 - pad_x), max(0, y1 - pad_y), min(width, x2 + pad_x), min(height, y2 + pad_y)
    crop = np.ascontiguousarray(image.pixels[cy1:cy2, cx1:cx2, ::-1])
    scale = min(1.0, GRABCUT_MAX_SIDE / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    rect = (int((x1 - cx1) * scale), int((y1 - cy1) * scale),
            max(1, int((x2 - x1) * scale)), max(1, int((y2 - y1) * scale)))
    full = np.zeros((height, width), dtype=bool)
    if rect[2] < 3 or rect[3] < 3 or small.shape[0] < 4 or small.shape[1] < 4:
        full[y1:y2, x1:x2] = True
        return full
    labels = np.zeros(small.shape[:2], np.uint8)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(small, labels, rect, background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        full[y1:y2, x1:x2] = True
        return full
    fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.resize(fg, (cx2 - cx1, cy2 - cy1), interpolation=cv2.INTER_NEAREST).astype(bool)
    full[cy1:cy2, cx1:cx2] = fg
    full[:y1], full[y2:], full[:, :x1], full[:, x2:] = False, False, False, False
    return full
