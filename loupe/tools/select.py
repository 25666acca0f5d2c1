from loupe.programs.values import Objects, ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool


class Select(ModelTool):
    name = "SELECT"
    description = ("Keeps the objects that match a query such as 'dog' or 'red bus' (several with "
                   "commas: 'cup,plate'); `category` optionally narrows the search.")
    inputs = {"image": Param(ValueType.IMAGE, "the image the objects were found in"),
              "object": Param(ValueType.OBJECTS, "the candidate objects"),
              "query": Param(ValueType.TEXT, "what to keep"),
              "category": Param(ValueType.TEXT, "an optional broader category", None)}
    output = ValueType.OBJECTS
    examples = ("OBJ1=SELECT(image=IMAGE,object=OBJ0,query='bus',category=None)",)

    def finish(self, call, result):
        return result.looking_for(call["query"]) if isinstance(result, Objects) else result
