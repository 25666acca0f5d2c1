"""LIST's backend: the planner's language model lists what a knowledge query asks for."""

from __future__ import annotations

import re

from programs.errors import ToolError, ToolUnavailable

LLM_KEY = ("llm",)
_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])?\s*(.+?)\s*$")


def set_llm(context, llm) -> None:
    """Make ``llm`` the language model of this tool context (LIST uses it)."""
    context.provide(LLM_KEY, llm)


class LlmLister:
    def __init__(self, context):
        self.context = context

    def run(self, query: str, max: int = 5):
        llm = self.context.provided(LLM_KEY)
        if llm is None:
            raise ToolUnavailable("LIST needs a language model: run the program through `loupe ask` or the "
                                  "Agent API, which give LIST the planner's model")
        limit = max if isinstance(max, int) and max > 0 else 5
        prompt = (f"List {limit} {query}. One per line, names only, no numbering.\n")
        reply = llm.complete(prompt, system="You answer with a plain list.", max_tokens=16 * limit + 16).text
        items = []
        for line in reply.splitlines():
            match = _ITEM.match(line)
            item = match.group(1).strip(" .,:;\"'") if match else ""
            if item and item.lower() not in (i.lower() for i in items) and len(item) <= 80:
                items.append(item)
        if not items:
            raise ToolError(f"the language model gave no list items for {query!r}")
        return tuple(items[:limit])
