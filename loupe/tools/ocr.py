from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Ocr(ModelTool):
    name = "OCR"
    description = ("Reads the text in an image: one object per line of text, with its box and its text; "
                   "as an answer it reads as the text in reading order.")
    inputs = {"image": Param(ValueType.IMAGE, "the image (or a crop of it)")}
    output = ValueType.OBJECTS
    examples = ("TEXT0=OCR(image=IMAGE)",)
