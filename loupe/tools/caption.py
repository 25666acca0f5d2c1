from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Caption(ModelTool):
    name = "CAPTION"
    description = "Describes an image in one sentence."
    inputs = {"image": Param(ValueType.IMAGE, "the image to describe")}
    output = ValueType.TEXT
    examples = ("TEXT0=CAPTION(image=IMAGE)",)
