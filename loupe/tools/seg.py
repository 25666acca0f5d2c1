from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Seg(ModelTool):
    name = "SEG"
    description = "Segments an image into objects, each with a label, a box and a pixel mask."
    inputs = {"image": Param(ValueType.IMAGE, "the image to segment")}
    output = ValueType.OBJECTS
    examples = ("OBJ0=SEG(image=IMAGE)",)
