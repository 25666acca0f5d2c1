"""LIST: the run's language model (the planner's, injected per run: ``loupe.tools.injected``) lists what a
knowledge query asks for."""

import re

from loupe.programs.errors import Diagnostic, ToolError, ToolUnavailable
from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.injected import LLM_KEY

_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])?\s*(.+?)\s*$")


class ListTool(Tool):
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

    def backend_name(self) -> str:
        return "llm"

    def execute(self, query: str, max: int = 5) -> tuple[str, ...]:
        """At most ``max`` distinct items (each at most 80 characters), in the model's order."""
        llm = self.context.provided(LLM_KEY)
        if llm is None:
            raise ToolUnavailable("LIST needs a language model: run the program through `loupe ask` or the "
                                  "Agent API, which give LIST the planner's model")
        limit = max if isinstance(max, int) and max > 0 else 5
        prompt = f"List {limit} {query}. One per line, names only, no numbering.\n"
        reply = llm.complete(prompt, system="You answer with a plain list.", max_tokens=16 * limit + 16).text
        items: list[str] = []
        for line in reply.splitlines():
            match = _ITEM.match(line)
            item = match.group(1).strip(" .,:;\"'") if match else ""
            if item and item.lower() not in (i.lower() for i in items) and len(item) <= 80:
                items.append(item)
        if not items:
            raise ToolError(f"the language model gave no list items for {query!r}")
        return tuple(items[:limit])
