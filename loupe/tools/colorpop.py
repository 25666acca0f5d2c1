"""COLORPOP: the objects keep their colours, everything else turns grey, with a soft edge between."""

from loupe.programs.values import Image, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.imageops import (check_objects_fit, composite, feather, feather_radius, greyscale, objects_mask,
                            require_objects)


class ColorPop(Tool):
    """Objects (their masks, or boxes when they have none) stay exactly as they were; the colour fades
    out over a thin band outside them. With no objects the step fails, naming what was not found (VisProg
    greyed the whole image: a result the user could take for success)."""

    name = "COLORPOP"
    description = ("Keeps the objects in colour and turns the rest of the image black and white "
                   "(a 'colour pop' / 'colour splash' edit).")
    inputs = {"image": Param(ValueType.IMAGE, "the image to edit"),
              "object": Param(ValueType.OBJECTS, "the objects to keep in colour, found in that image")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=COLORPOP(image=IMAGE,object=OBJ1)",)

    def execute(self, image: Image, object: Objects) -> Image:
        check_objects_fit(image, object, self.name)
        require_objects(image, object, "keep in colour")
        keep = feather(objects_mask(image, object), feather_radius(image), outward=True)
        return image.with_pixels(composite(greyscale(image.pixels), image.pixels, keep))
