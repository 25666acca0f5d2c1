"""Candidate next steps for the SayCan planner, from the registry and the current typed state.

Each tool is bound to variables of the right type and to texts taken from the query (object names,
the question itself, a replacement prompt); ``RESULT(var=...)`` of a computed variable means "done".
"""

from __future__ import annotations

from itertools import combinations
import re
from typing import Mapping

from loupe.agent.planning.constraints import query_phrases
from loupe.programs.ir import Arg, Ref, Step
from loupe.programs.values import ValueType, type_of

_PREFIX = {ValueType.OBJECTS: "OBJ", ValueType.IMAGE: "IMAGE", ValueType.NUMBER: "ANSWER",
           ValueType.TEXT: "ANSWER", ValueType.TEXT_LIST: "LIST", ValueType.ANY: "ANSWER", ValueType.BOOL: "ANSWER"}
_EXPR_ONE = ("'yes' if {A} > 0 else 'no'", "{A} == 0", "{A}")
_EXPR_TWO = ("'yes' if {A} > 0 and {B} > 0 else 'no'", "'yes' if {A} > 0 or {B} > 0 else 'no'", "{A} + {B}",
             "'yes' if {A} > {B} else 'no'")
_SKIP_TOOLS = {"LIST", "RESULT"}
MAX_PHRASE_WORDS = 2


def output_name(tool_class, values: Mapping[str, object]) -> str:
    prefix = "BOX" if tool_class.name == "LOC" else _PREFIX.get(tool_class.output, "OUT")
    n = 0
    while f"{prefix}{n}" in values:
        n += 1
    return f"{prefix}{n}"


def text_choices(arg: str, query: str) -> list[str]:
    if arg in ("object", "query"):
        return [p for p in query_phrases(query, MAX_PHRASE_WORDS) if not _is_stopword(p)]
    if arg == "question":
        return [query.strip()]
    if arg == "prompt":
        match = re.search(r"\b(?:with|into|to)\s+(.+?)[.?!]?$", query.strip(), re.IGNORECASE)
        return [match.group(1)] if match else [""]
    if arg == "emoji":
        return ["smiling_face_with_sunglasses"]
    return []


_STOP = set("a an the is are there any how many what which who where does do in on of to and or with "
            "this that these those it its image photo picture me please can you see".split())


def _is_stopword(phrase: str) -> bool:
    return all(word in _STOP for word in phrase.split())


def content_words(query: str) -> list[str]:
    """The query's words that can name something (stopwords and question words left out)."""
    return [w for w in query_phrases(query, 1) if not _is_stopword(w)]


def expressions(values: Mapping[str, object]) -> list[str]:
    scalars = [n for n, v in values.items() if type_of(v) in (ValueType.NUMBER, ValueType.TEXT, ValueType.BOOL)]
    scalars = scalars[-3:]
    found = [e.replace("{A}", "{" + a + "}") for a in scalars for e in _EXPR_ONE]
    found += [e.replace("{A}", "{" + a + "}").replace("{B}", "{" + b + "}")
              for a, b in combinations(scalars, 2) for e in _EXPR_TWO]
    return found


def candidates(registry, values: Mapping[str, object], query: str, done: set[str]) -> list[Step]:
    """Every next step worth scoring; ``done`` holds the step texts already run (not repeated)."""
    from loupe.programs.render import render_call

    steps = []
    for name in registry.names():
        if name in _SKIP_TOOLS:
            continue
        tool = registry.tool_class(name)
        for args in _bindings(tool, values, query):
            step = Step(output_name(tool, values), name, tuple(Arg(k, v) for k, v in args))
            if render_call(step) not in done:
                steps.append(step)
    produced = [n for n in values if n not in ("IMAGE", "LEFT", "RIGHT")]
    steps += [Step("FINAL_RESULT", "RESULT", (Arg("var", Ref(n)),)) for n in produced]
    return steps


def _bindings(tool, values, query) -> list[list[tuple[str, object]]]:
    options: list[list[tuple[str, object]]] = [[]]
    for arg, param in tool.inputs.items():
        if not param.required:
            continue
        if param.type in (ValueType.IMAGE, ValueType.OBJECTS, ValueType.TEXT_LIST):
            choices = [Ref(n) for n, v in values.items() if type_of(v) is param.type]
        elif arg == "expr":
            choices = expressions(values)
        elif param.type is ValueType.TEXT:
            choices = text_choices(arg, query)
        elif param.type is ValueType.NUMBER:
            choices = [5]
        else:
            choices = []
        if not choices:
            return []
        options = [o + [(arg, c)] for o in options for c in choices]
    return options
