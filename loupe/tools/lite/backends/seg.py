"""SEG on the lite tier: every detected object with a pixel mask.

People get the selfie model's foreground mask, run on a crop around each person and kept inside their
(slightly enlarged) box; other objects a GrabCut mask seeded from their box. ``SEG(image=IMAGE)`` segments everything the detector found.
"""

from __future__ import annotations

import cv2
import numpy as np

from loupe.programs.values import Image, Obj, Objects
from loupe.tools.lite.backends.base import LiteBackend
from loupe.programs.values import clip_box

GRABCUT_ITERATIONS = 3
GRABCUT_SEED = 0
WORN = frozenset({"tie", "backpack", "handbag"})  # lie over their wearer: people's masks are no background for them
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
    people = np.zeros((image.height, image.width), dtype=bool)
    for mask in person_masks.values():
        people |= mask
    masked = []
    for i, obj in enumerate(objects):
        if id(obj) in person_masks:
            mask = person_masks[id(obj)]
        elif i in grabcut:
            smaller = [o for o in objects if o.label != obj.label and id(o) not in person_masks and o.area < obj.area]
            mask = grabcut_mask(image, obj, None if obj.label in WORN else people, smaller)
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


def grabcut_mask(image: Image, obj: Obj, people: np.ndarray | None = None, smaller=()) -> np.ndarray:
    """Boolean ``[H, W]`` mask of the object inside its box, by GrabCut on a downscaled neighbourhood.
    ``people`` (pixels of people's masks: a person standing in front of a car) and the boxes of ``smaller``
    objects of other classes (the dog sitting in front of a bicycle, a cup on a table; a smaller box of its
    own class is more often a part of it) start as probable background rather than probable object, and
    GrabCut's colour models decide where they lie over it."""
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
    labels = np.full(small.shape[:2], cv2.GC_BGD, np.uint8)
    labels[rect[1]:rect[1] + rect[3], rect[0]:rect[0] + rect[2]] = cv2.GC_PR_FGD
    known = np.zeros((cy2 - cy1, cx2 - cx1), dtype=np.uint8)
    for other in smaller:
        ox1, oy1, ox2, oy2 = clip_box(other.box, width, height)
        known[max(oy1, cy1) - cy1:max(oy2 - cy1, 0), max(ox1, cx1) - cx1:max(ox2 - cx1, 0)] = 1
    if people is not None:
        known[people[cy1:cy2, cx1:cx2]] = 1
    known = cv2.resize(known, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    inside = labels == cv2.GC_PR_FGD
    if (inside & (known == 0)).any():  # else (a tie all inside its wearer's mask) GrabCut starts from the box
        labels[inside & (known > 0)] = cv2.GC_PR_BGD
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(GRABCUT_SEED)  # GrabCut's k-means starts from OpenCV's global RNG: the same call, the same mask
    try:
        cv2.grabCut(small, labels, None, background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        full[y1:y2, x1:x2] = True
        return full
    fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.resize(fg, (cx2 - cx1, cy2 - cy1), interpolation=cv2.INTER_NEAREST).astype(bool)
    full[cy1:cy2, cx1:cx2] = fg
    full[:y1], full[y2:], full[:, :x1], full[:, x2:] = False, False, False, False
    return full
