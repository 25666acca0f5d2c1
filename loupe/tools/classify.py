from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Classify(ModelTool):
    name = "CLASSIFY"
    description = ("Assigns each object one of the given categories (the best match) and keeps, for each "
                   "category, the object that matches it best.")
    inputs = {"image": Param(ValueType.IMAGE, "the image the objects were found in"),
              "object": Param(ValueType.OBJECTS, "the objects to classify"),
              "categories": Param(ValueType.TEXT_LIST, "the candidate categories")}
    output = ValueType.OBJECTS
    examples = ("OBJ1=CLASSIFY(image=IMAGE,object=OBJ0,categories=LIST0)",)
