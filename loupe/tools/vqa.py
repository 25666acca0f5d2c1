from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Vqa(ModelTool):
    name = "VQA"
    description = "Answers a question about an image with a short text answer."
    inputs = {"image": Param(ValueType.IMAGE, "the image (or a crop of it)"),
              "question": Param(ValueType.TEXT, "the question")}
    output = ValueType.TEXT
    examples = ("ANSWER0=VQA(image=IMAGE,question='What color is the bus?')",)
