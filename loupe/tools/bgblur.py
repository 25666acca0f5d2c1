"""BGBLUR: the background is blurred strongly (a shallow depth-of-field look); the objects stay sharp."""

from loupe.programs.values import Image, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.imageops import (check_objects_fit, composite, feather, feather_radius, gaussian_blur,
                            objects_mask, require_objects)

BLUR_FRACTION = 0.02  # Gaussian sigma as a fraction of the image's shorter side (10 px at 500 px)


class BgBlur(Tool):
    """Objects (masks, or boxes) are left exactly as they were; the blur fades in over a thin band
    outside them. With no objects the step fails, naming what was not found (no silent no-op)."""

    name = "BGBLUR"
    description = "Blurs the background of the image strongly, keeping the objects sharp."
    inputs = {"image": Param(ValueType.IMAGE, "the image to edit"),
              "object": Param(ValueType.OBJECTS, "the objects to keep sharp, found in that image")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=BGBLUR(image=IMAGE,object=OBJ0)",)

    def execute(self, image: Image, object: Objects) -> Image:
        check_objects_fit(image, object, self.name)
        require_objects(image, object, "keep sharp")
        sigma = max(3.0, BLUR_FRACTION * min(image.width, image.height))
        blurred = gaussian_blur(image.pixels, sigma)
        keep = feather(objects_mask(image, object), feather_radius(image), outward=True)
        return image.with_pixels(composite(blurred, image.pixels, keep))
