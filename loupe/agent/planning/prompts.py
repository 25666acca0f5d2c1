"""Prompts of the planners: the tools' own cards (``Tool.card``), retrieved examples, the query.

Each card is the tool's signature, the first sentence of its description and its usage example
(~1,250 tokens for the built-in tools). The cards come first and do not depend on the query, so a local
model reuses their KV cache across calls; the retrieved examples and the query follow.
"""

from __future__ import annotations

import json
from typing import Sequence

PROGRAM_SYSTEM = ("You write short visual programs that answer a question about an image or edit it. "
                  "Reply with the program only, one step per line.")
TASKS_SYSTEM = ("You plan visual tasks as a JSON list of tasks. Reply with the JSON list only.")
_TASK_NAMES = "Task names: "


def program_prompt(registry, examples, query: str, two_images: bool = False) -> str:
    """Static part first (tool cards, rules: its KV cache is reused across calls by local models), then the
    examples with the most similar last, then the query."""
    inputs = "LEFT and RIGHT (two images)" if two_images else "IMAGE"
    shots = "\n\n".join(f"Question: {e.instruction}\nProgram:\n{e.program.strip()}" for e in reversed(examples))
    return (f"Modules:\n{registry.cards()}\n\n"
            "Rules: one step per line, OUT=MODULE(arg=value,...); text values in quotes; use only the "
            f"modules above; the input is {inputs}; end with FINAL_RESULT=RESULT(var=...).\n\n"
            f"{shots}\n\nQuestion: {query}\nProgram:\n")


def repair_prompt(previous_prompt: str, program_text: str, errors: Sequence[str]) -> str:
    listed = "\n".join(f"- {e}" for e in errors)
    return (f"{previous_prompt}{program_text.strip()}\n\nThis program has errors:\n{listed}\n"
            "Write the corrected program.\nProgram:\n")


def tasks_prompt(registry, examples, query: str) -> str:
    from loupe.programs.tasks import TASK_ALIASES

    aliases = ", ".join(f"{task} -> {alias.module}" for task, alias in TASK_ALIASES.items())
    shots = "\n\n".join(f"Request: {e.instruction}\nTasks: {json.dumps(e.tasks, separators=(',', ':'))}"
                        for e in examples if e.tasks)
    return (f"Modules:\n{registry.cards()}\n\n{_TASK_NAMES}{aliases}. A task's args "
            "may refer to an earlier task's output as \"<GENERATED>-ID\"; list those ids in \"dep\" ([-1] for "
            "none); the image file is \"image.jpg\".\n\n"
            f"{shots}\n\nRequest: {query}\nTasks: ")


def is_tasks_prompt(prompt: str) -> bool:
    """Whether ``prompt`` (or a repair prompt built on it) came from ``tasks_prompt``."""
    return _TASK_NAMES in prompt


def saycan_prompt(examples, query: str, steps: Sequence[str]) -> str:
    shots = "\n\n".join(f"Question: {e.instruction}\nProgram:\n{e.program.strip()}" for e in examples)
    done = "".join(s + "\n" for s in steps)
    return f"{shots}\n\nQuestion: {query}\nProgram:\n{done}"
