from loupe.programs.errors import Diagnostic, ProgramError
from loupe.programs.ir import Ref
from loupe.programs.safe_eval import parse_expression
from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool


class Eval(Tool):
    name = "EVAL"
    description = ("Computes a value from earlier answers with a Python-like expression: {VAR} placeholders, "
                   "and/or/not/xor, comparisons, arithmetic and 'x if c else y'. Nothing else is allowed.")
    inputs = {"expr": Param(ValueType.TEXT, "the expression, e.g. \"'yes' if {ANSWER0} > 0 else 'no'\"")}
    cheap = True
    output = ValueType.ANY
    reads_variables = True
    examples = ("ANSWER2=EVAL(expr=\"'yes' if {ANSWER0} > 0 and {ANSWER1} > 0 else 'no'\")",)

    def execute(self, expr, variables):
        return parse_expression(expr).evaluate(variables)

    @classmethod
    def check(cls, args, line):
        expr = args.get("expr")
        if isinstance(expr, Ref):  # a variable's value would become code: expressions are written, never computed
            return [Diagnostic(f"EVAL's expr must be a quoted expression written in the program, not the "
                               f"variable {expr.name}", line, 0, expr.name,
                               f"e.g. expr=\"{{{expr.name}}} > 0\"")]
        if not isinstance(expr, str):
            return []
        try:
            parse_expression(expr, line)
        except ProgramError as error:
            return list(error.diagnostics)
        return []

    @classmethod
    def zero_tested(cls, args):
        expr = args.get("expr")
        try:
            return parse_expression(expr).zero_tested if isinstance(expr, str) else frozenset()
        except ProgramError:
            return frozenset()

    @classmethod
    def implicit_reads(cls, args):
        expr = args.get("expr")
        if not isinstance(expr, str):
            return []
        try:
            return list(parse_expression(expr).variables)
        except ProgramError:
            return []
