from programs.values import ValueType
from tools.base import Param
from tools.imageops import require_objects
from tools.model_tool import ModelTool


class Replace(ModelTool):
    name = "REPLACE"
    description = ("Replaces objects in an image by what the prompt describes ('a teapot', 'blue bus'); "
                   "an empty prompt or 'nothing' removes them.")
    inputs = {"image": Param(ValueType.IMAGE, "the image to edit"),
              "object": Param(ValueType.OBJECTS, "the objects to replace"),
              "prompt": Param(ValueType.TEXT, "what to put there")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=REPLACE(image=IMAGE,object=OBJ1,prompt='a teapot')",)

    def prepare(self, call):
        require_objects(call["image"], call["object"], "replace")
