from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool


class Result(Tool):
    name = "RESULT"
    description = "Marks the program's final value; every program ends with exactly one RESULT step."
    inputs = {"var": Param(ValueType.ANY, "the variable holding the answer or the edited image")}
    cheap = True
    output = ValueType.ANY
    examples = ("FINAL_RESULT=RESULT(var=ANSWER0)",)

    def execute(self, var):
        return var

    @classmethod
    def output_type(cls, arg_types):
        return arg_types.get("var", ValueType.ANY)
