"""TAG: draws each object's box and a readable label with its name."""

from loupe.programs.values import Image, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.drawing import draw_objects
from loupe.tools.imageops import check_objects_fit, require_objects


class Tag(Tool):
    """Labels say the OCR text for text objects, else the category (after CLASSIFY), else the label.
    With no objects the step fails, naming what was not found (no silent no-op)."""

    name = "TAG"
    description = ("Draws a box around each object with a label naming it (its category after CLASSIFY, "
                   "or the text OCR read).")
    inputs = {"image": Param(ValueType.IMAGE, "the image to draw on"),
              "object": Param(ValueType.OBJECTS, "the objects to tag, found in that image")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=TAG(image=IMAGE,object=OBJ1)",)

    def execute(self, image: Image, object: Objects) -> Image:
        check_objects_fit(image, object, self.name)
        require_objects(image, object, "tag")
        return draw_objects(image, object, masks=False)
