from programs.values import ValueType
from tools.base import Param, Tool


class Count(Tool):
    name = "COUNT"
    description = ("Counts the objects in a set of objects, e.g. those LOC found. Where the count is only tested "
                   "for zero (is there any?), it also counts the objects seen too faintly to count for sure: "
                   "there, missing an object costs as much as a false one.")
    inputs = {"box": Param(ValueType.OBJECTS, "the objects to count")}
    cheap = True
    output = ValueType.NUMBER
    existence_input = "faint"  # not a program argument: the interpreter sets it (Tool.existence_input)
    examples = ("ANSWER0=COUNT(box=BOX0)",)

    def execute(self, box, faint=False):
        """``len(box)``; with ``faint``, plus ``box.faint`` (``Objects.faint``)."""
        return len(box) + (len(box.faint) if faint else 0)
