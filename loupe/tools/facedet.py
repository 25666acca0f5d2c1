from loupe.programs.values import Objects, ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class FaceDet(ModelTool):
    name = "FACEDET"
    description = "Finds every human face in an image, small ones too, and returns them as objects labelled 'face'."
    inputs = {"image": Param(ValueType.IMAGE, "the image to search")}
    output = ValueType.OBJECTS
    examples = ("OBJ0=FACEDET(image=IMAGE)",)

    def finish(self, call, result):
        return result.looking_for("face") if isinstance(result, Objects) else result
