"""BLUR: hides what is inside the objects (faces, licence plates) by pixelating and blurring it."""

import numpy as np

from loupe.programs.values import Image, Objects, ValueType, clip_box
from loupe.tools.base import Param, Tool
from loupe.tools.imageops import (check_objects_fit, composite, feather, feather_radius, gaussian_blur,
                            objects_mask, pixelate, require_objects)

CELLS = 8  # blocks along an object's longer side: too coarse for a face or plate to be read


def obscured(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The ``[h, w, 3]`` patch of ``pixels`` inside integer ``box``, pixelated and then softened."""
    x1, y1, x2, y2 = box
    patch = pixelate(pixels[y1:y2, x1:x2], CELLS)
    return gaussian_blur(patch, max(x2 - x1, y2 - y1) / CELLS / 2)


class Blur(Tool):
    """Only pixels inside the objects' masks (or boxes) change; everything outside stays identical.
    The edge is softened inwards over a couple of pixels. With no objects the step fails, naming what
    was not found (no silent no-op)."""

    name = "BLUR"
    description = ("Blurs the inside of the objects beyond recognition, e.g. to anonymise faces or "
                   "licence plates; the rest of the image is unchanged.")
    inputs = {"image": Param(ValueType.IMAGE, "the image to edit"),
              "object": Param(ValueType.OBJECTS, "the objects to hide, found in that image")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=BLUR(image=IMAGE,object=OBJ0)",)

    def execute(self, image: Image, object: Objects) -> Image:
        check_objects_fit(image, object, self.name)
        require_objects(image, object, "blur")
        hidden = np.array(image.pixels)
        for obj in object:
            box = clip_box(obj.box, image.width, image.height)
            hidden[box[1]:box[3], box[0]:box[2]] = obscured(image.pixels, box)
        alpha = feather(objects_mask(image, object), feather_radius(image, 0.004), outward=False)
        return image.with_pixels(composite(image.pixels, hidden, alpha))
