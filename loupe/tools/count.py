from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool


class Count(Tool):
    name = "COUNT"
    description = ("Counts the objects in a set of objects, e.g. those LOC found. Objects seen too faintly to "
                   "count are not counted, for existence either: on the labelled calibration photos they were "
                   "there less often than not (the answer's status says when the evidence was weak).")
    inputs = {"box": Param(ValueType.OBJECTS, "the objects to count")}
    cheap = True
    output = ValueType.NUMBER
    examples = ("ANSWER0=COUNT(box=BOX0)",)

    def execute(self, box):
        """``len(box)``."""
        return len(box)
