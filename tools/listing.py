from programs.errors import Diagnostic
from programs.values import ValueType
from tools.model_tool import ModelTool
from tools.base import Param


class ListTool(ModelTool):
    name = "LIST"
    description = ("Lists up to `max` things that answer a knowledge query (e.g. 'members of a famous band'), "
                   "using the planner's language model; feeds CLASSIFY's categories.")
    inputs = {"query": Param(ValueType.TEXT, "what to list"),
              "max": Param(ValueType.NUMBER, "at most this many items", 5)}
    output = ValueType.TEXT_LIST
    examples = ("LIST0=LIST(query='colours of the rainbow',max=7)",)

    @classmethod
    def check(cls, args, line):
        limit = args.get("max", 5)
        if isinstance(limit, (int, float)) and not isinstance(limit, bool) and not 1 <= limit <= 100:
            return [Diagnostic(f"LIST max must be between 1 and 100; got {limit}", line)]
        return []
