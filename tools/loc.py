from programs.values import Objects, ValueType
from tools.base import Param
from tools.model_tool import ModelTool


class Loc(ModelTool):
    name = "LOC"
    description = ("Finds every instance of a named object in an image and returns them with pixel boxes. "
                   "The words TOP, BOTTOM, LEFT and RIGHT return that half of the image as one region.")
    inputs = {"image": Param(ValueType.IMAGE, "the image to search"),
              "object": Param(ValueType.TEXT, "what to find, e.g. 'dog' or 'traffic light'")}
    output = ValueType.OBJECTS
    examples = ("BOX0=LOC(image=IMAGE,object='dog')",)

    def finish(self, call, result):
        return result.looking_for(call["object"]) if isinstance(result, Objects) else result
