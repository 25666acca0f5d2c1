"""CROP and the directional crops, with VisProg's semantics.

Only the first object of ``box`` counts (LOC returns objects best first). Boxes are ``(x1, y1, x2, y2)``
pixels; a crop keeps columns ``x1..x2-1`` and rows ``y1..y2-1`` (end-exclusive, like a numpy slice).

* CROP          — the first box enlarged 1.5 times about its centre (clipped to the image).
* CROP_LEFTOF   — every column left of the first box's centre; CROP_RIGHTOF — from the centre rightwards.
* CROP_ABOVE    — every row above the first box's centre; CROP_BELOW — from the centre downwards.

With no object every crop fails, naming what was not found ("no kite found in photo.jpg; nothing to
crop"): VisProg returned the whole image (or a half), an answer about a photo region that was never
found and, for an edit, a silent no-op the user takes for success. ``crop_region`` keeps VisProg's
fallback (the whole image, or the matching half) for callers that want it.
"""

from __future__ import annotations

from typing import ClassVar

from loupe.programs.values import Image, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.imageops import check_objects_fit, require_objects

ENLARGE = 1.5  # CROP's box is this many times the object's box, about the same centre (as VisProg)

Box = tuple[float, float, float, float]


def enlarged_box(box: Box, width: int, height: int, factor: float = ENLARGE) -> Box:
    """``box`` scaled by ``factor`` about its centre, clipped to a ``width`` x ``height`` image."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = factor * (x2 - x1) / 2, factor * (y2 - y1) / 2
    return max(0.0, cx - half_w), max(0.0, cy - half_h), min(float(width), cx + half_w), \
        min(float(height), cy + half_h)


def _centre_x(box: Box) -> int:
    return int((box[0] + box[2]) / 2)


def _centre_y(box: Box) -> int:
    return int((box[1] + box[3]) / 2)


def crop_region(direction: str, box: Box | None, width: int, height: int) -> Box:
    """The region a crop keeps: ``direction`` is ``""`` (CROP) or left/right/above/below of ``box``.

    ``box`` None (no object found) gives the whole image for CROP and the matching half otherwise.
    """
    if box is None:
        box = (0.0, 0.0, float(width), float(height))
        if not direction:
            return box
    if direction == "left":
        return 0, 0, _centre_x(box), height
    if direction == "right":
        return _centre_x(box), 0, width, height
    if direction == "above":
        return 0, 0, width, _centre_y(box)
    if direction == "below":
        return 0, _centre_y(box), width, height
    return enlarged_box(box, width, height)


class _Crop(Tool):
    """Shared declaration and behaviour of the crop tools; subclasses set ``name``, ``direction`` and text."""

    abstract = True
    direction: ClassVar[str] = ""
    inputs = {"image": Param(ValueType.IMAGE, "the image to crop"),
              "box": Param(ValueType.OBJECTS, "objects found in that image; the first one is used")}
    output = ValueType.IMAGE

    def execute(self, image: Image, box: Objects) -> Image:
        check_objects_fit(image, box, self.name)
        require_objects(image, box, "crop")
        return image.crop(crop_region(self.direction, box[0].box, image.width, image.height))


class Crop(_Crop):
    name = "CROP"
    description = ("Crops the image to the first object, with a margin around it (the box enlarged 1.5x); "
                   "fails when there is no object.")
    examples = ("IMAGE0=CROP(image=IMAGE,box=BOX0)",)


class CropLeftOf(_Crop):
    name = "CROP_LEFTOF"
    direction = "left"
    description = ("Crops the part of the image left of the first object's centre; fails with no object.")
    examples = ("IMAGE0=CROP_LEFTOF(image=IMAGE,box=BOX0)",)


class CropRightOf(_Crop):
    name = "CROP_RIGHTOF"
    direction = "right"
    description = ("Crops the part of the image right of the first object's centre; fails with no object.")
    examples = ("IMAGE0=CROP_RIGHTOF(image=IMAGE,box=BOX0)",)


class CropAbove(_Crop):
    name = "CROP_ABOVE"
    direction = "above"
    description = ("Crops the part of the image above the first object's centre; fails with no object.")
    examples = ("IMAGE0=CROP_ABOVE(image=IMAGE,box=BOX0)",)


class CropBelow(_Crop):
    name = "CROP_BELOW"
    direction = "below"
    description = ("Crops the part of the image below the first object's centre; fails with no object.")
    examples = ("IMAGE0=CROP_BELOW(image=IMAGE,box=BOX0)",)
