"""IR -> HuggingGPT task list: the second surface of a program (``loupe.programs.tasks`` reads it back).

    BOX0=LOC(image=IMAGE,object='dog')          [{"task": "object-detection", "id": 0, "dep": [-1],
    ANSWER0=COUNT(box=BOX0)               ->      "args": {"image": "image.jpg", "text": "dog"}},
    FINAL_RESULT=RESULT(var=ANSWER0)             {"task": "object-counting", "id": 1, "dep": [0],
                                                  "args": {"box": "<GENERATED>-0"}}]

One task per step the result depends on (steps whose outputs nothing uses are left out: a task list
ends with its one unused task, the answer). Task ``k`` is the ``k``-th such step; references to it
become ``"<GENERATED>-k"`` and ``{NAME}`` placeholders in EVAL expressions become the name
``parse_tasks`` gives task ``k``'s output. The inputs become the files ``image.jpg`` (IMAGE),
``left.jpg`` (LEFT) and ``right.jpg`` (RIGHT). Arguments keep the module's names, except the one a
task's alias reads from ``"text"`` (a LOC object, a VQA question...), written as ``"text"``. So
``parse_tasks(program_to_tasks(p))`` is ``p`` up to variable names, argument order and dead steps.
"""

from __future__ import annotations

import json
import re

from loupe.programs.ir import Program, Ref, Step, Value
from loupe.programs.tasks import TASK_ALIASES, TaskAlias, output_name

INPUT_FILES = {"IMAGE": "image.jpg", "LEFT": "left.jpg", "RIGHT": "right.jpg"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LOOKS_SPECIAL = re.compile(r"^<(?:GENERATED|resource)>-\d+$|\.(jpe?g|png|gif|bmp|webp|tiff?)$", re.IGNORECASE)


def program_to_tasks(program: Program) -> list[dict]:
    """The task list of ``program`` (which ends with ``RESULT``) as JSON-ready dicts.

    Raises ``ValueError`` when the program has no RESULT or a text value that a task list would read
    as a file or a task reference."""
    result = next((s for s in reversed(program.steps) if s.module == "RESULT"), None)
    if result is None or not isinstance(result.arg("var"), Ref):
        raise ValueError("a task list needs a program that ends with RESULT(var=...)")
    steps = _live_steps(program, result.arg("var").name)
    ids = {step.output: tid for tid, step in enumerate(steps)}
    names = {step.output: output_name(step.module, tid) for tid, step in enumerate(steps)}
    tasks = []
    for tid, step in enumerate(steps):
        task_name, alias = _task_name(step)
        used: set[int] = set()
        args = {_arg_key(a.name, alias): _value(a.value, ids, names, used) for a in step.args}
        tasks.append({"task": task_name, "id": tid, "dep": sorted(used) or [-1], "args": args})
    return tasks


def program_to_tasks_json(program: Program) -> str:
    """``program_to_tasks`` as one line of JSON (the form the task planner's examples use)."""
    return json.dumps(program_to_tasks(program), ensure_ascii=False)


def _live_steps(program: Program, result_var: str) -> list[Step]:
    """The steps ``result_var`` depends on, in program order (RESULT itself excluded)."""
    producers = {s.output: s for s in program.steps if s.module != "RESULT"}
    live, pending = set(), [result_var]
    while pending:
        name = pending.pop()
        if name in live or name not in producers:
            continue
        live.add(name)
        pending += _reads(producers[name])
    return [s for s in program.steps if s.output in live and s.module != "RESULT"]


def _reads(step: Step) -> list[str]:
    """Variables a step reads: its references and the ``{NAME}`` placeholders of its text values."""
    names = [r.name for r in step.refs()]
    for arg in step.args:
        if isinstance(arg.value, str):
            names += _PLACEHOLDER.findall(arg.value)
    return names


def _task_name(step: Step) -> tuple[str, TaskAlias | None]:
    """The first HuggingGPT alias of the step's module that can carry all its arguments under their
    own names; the module's name when none can (the task parser accepts module names too)."""
    for task, alias in TASK_ALIASES.items():
        if alias.module == step.module and all(_arg_key(a.name, alias) is not None for a in step.args):
            return task, alias
    return step.module, None


def _arg_key(name: str, alias: TaskAlias | None) -> str | None:
    """The task argument that the alias reads as ``name``: "text" when it maps "text" there, the name
    itself when the alias leaves it unchanged, None when it renames it to something else."""
    if alias is None:
        return name
    if alias.rename.get("text") == name:
        return "text"
    return name if alias.rename.get(name, name) == name else None


def _value(value: Value, ids: dict[str, int], names: dict[str, str], used: set[int]):
    if isinstance(value, Ref):
        if value.name in INPUT_FILES:
            return INPUT_FILES[value.name]
        if value.name not in ids:
            raise ValueError(f"the program reads {value.name}, which no step before it computes")
        used.add(ids[value.name])
        return f"<GENERATED>-{ids[value.name]}"
    if isinstance(value, tuple):
        return [_value(v, ids, names, used) for v in value]
    if isinstance(value, str):
        if _LOOKS_SPECIAL.search(value.strip()):
            raise ValueError(f"the text {value!r} would read as a file or a task reference in a task list")

        def rename(match: re.Match) -> str:
            if match.group(1) not in ids:
                return match.group(0)
            used.add(ids[match.group(1)])
            return "{" + names[match.group(1)] + "}"

        return _PLACEHOLDER.sub(rename, value)
    return value
