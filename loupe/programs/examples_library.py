"""The curated program library: example instructions with their VisProg programs, as data files.

Each file ``loupe/programs/library/<kind>.jsonl`` holds the examples of one kind, one JSON object a line::

    {"id": "count-horses", "instruction": "How many horses are there?", "kind": "counting",
     "program": "BOX0=LOC(image=IMAGE,object='horses')\\n...", "tasks": [ ...optional task list... ]}

``tasks`` (optional) is the same instruction as a HuggingGPT task list (see ``loupe.programs.tasks``); the
task planner shows it as a few-shot example. The planners pick examples with ``loupe.agent.planning.retrieval``.
Loading checks the shape of every line and parses every program; each problem is reported with its
file and line. Checking programs against the tool registry is left to the tests (and the planners).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from loupe.programs.errors import LoupeError, ProgramError
from loupe.programs.ir import Program
from loupe.programs.parser import parse_program

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
_REQUIRED_KEYS = ("id", "instruction", "kind", "program")
_OPTIONAL_KEYS = ("tasks",)
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")


class LibraryError(LoupeError):
    """One or more library lines are malformed; ``problems`` lists them as ``file:line: what``."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        super().__init__("the program library has problems:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Example:
    """One library example. ``program`` is VisProg text; ``tasks`` is a task list as JSON text, or None."""

    id: str
    instruction: str
    kind: str
    program: str
    tasks: str | None = None

    def parsed_program(self) -> Program:
        return parse_program(self.program)

    def task_list(self) -> list | None:
        """The task list as parsed JSON (a list of task objects), or None."""
        return None if self.tasks is None else json.loads(self.tasks)


def load_library(folder: Path | str | None = None) -> list[Example]:
    """Every example in ``folder`` (default: ``loupe/programs/library``), file by file in name order.

    Raises ``LibraryError`` listing every malformed line (bad JSON, missing or unknown keys, wrong
    types, a kind that is not the file's name, a duplicate id, a program that does not parse).
    """
    folder = Path(folder) if folder is not None else LIBRARY_DIR
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise LibraryError([f"{folder}: no *.jsonl files found"])
    examples: list[Example] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                example = _example(json.loads(line), path.stem)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not valid JSON ({error.msg}, column {error.colno})")
                continue
            except ValueError as error:
                problems.append(f"{where}: {error}")
                continue
            if example.id in first_seen:
                problems.append(f"{where}: duplicate id {example.id!r} (first at {first_seen[example.id]})")
                continue
            first_seen[example.id] = where
            examples.append(example)
    if problems:
        raise LibraryError(problems)
    return examples


def _example(data, file_kind: str) -> Example:
    """An ``Example`` from one decoded line; raises ``ValueError`` saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError(f"each line must be a JSON object; got {type(data).__name__}")
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise ValueError(f"missing key(s) {', '.join(missing)}; each line needs {', '.join(_REQUIRED_KEYS)}")
    unknown = sorted(set(data) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_REQUIRED_KEYS + _OPTIONAL_KEYS)}")
    for key in _REQUIRED_KEYS:
        if not isinstance(data[key], str) or not data[key].strip():
            raise ValueError(f"{key!r} must be non-empty text; got {data[key]!r:.60}")
    if not _ID.fullmatch(data["id"]):
        raise ValueError(f"id {data['id']!r} must be lowercase letters, digits, '-' and '_'")
    if data["kind"] != file_kind:
        raise ValueError(f"kind {data['kind']!r} does not match the file; examples of this file have kind {file_kind!r}")
    try:
        parse_program(data["program"])
    except ProgramError as error:
        raise ValueError(f"example {data['id']!r}: the program does not parse: {error}") from None
    tasks = data.get("tasks")
    if tasks is not None:
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
            raise ValueError(f"example {data['id']!r}: 'tasks' must be a non-empty list of task objects")
        tasks = json.dumps(tasks, ensure_ascii=False)
    return Example(data["id"], data["instruction"].strip(), data["kind"], data["program"], tasks)
