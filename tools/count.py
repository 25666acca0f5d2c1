from programs.values import ValueType
from tools.base import Param, Tool


class Count(Tool):
    name = "COUNT"
    description = "Counts the objects in a set of objects, e.g. those LOC found."
    inputs = {"box": Param(ValueType.OBJECTS, "the objects to count")}
    cheap = True
    output = ValueType.NUMBER
    examples = ("ANSWER0=COUNT(box=BOX0)",)

    def execute(self, box):
        return len(box)
