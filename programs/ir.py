"""The one intermediate representation of a Loupe program, for VisProg text and HuggingGPT task lists.

A ``Program`` is a tuple of ``Step``; a step assigns the output of one module call to a variable::

    BOX0=LOC(image=IMAGE,object='tie')   ->   Step("BOX0", "LOC", (("image", Ref("IMAGE")), ("object", "tie")))

Argument values are literals (``str``, ``int``, ``float``, ``bool``, ``None``, tuples of these) or
``Ref`` (a variable). ``Span`` records where a thing stood in the source; it never takes part in
equality, so ``parse(render(p)) == p``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import Any, Mapping, Union


@dataclass(frozen=True)
class Span:
    """1-based ``line`` and ``column`` of a thing in the source text (0 = unknown)."""

    line: int = 0
    column: int = 0


NOWHERE = Span()


@dataclass(frozen=True)
class Ref:
    """A reference to a variable: a named input (IMAGE, LEFT, RIGHT) or an earlier step's output."""

    name: str
    span: Span = field(default=NOWHERE, compare=False, repr=False)


Value = Union[Ref, str, int, float, bool, None, tuple]


@dataclass(frozen=True)
class Arg:
    name: str
    value: Value
    span: Span = field(default=NOWHERE, compare=False, repr=False)
    value_span: Span = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Step:
    """``output = module(args...)``. ``args`` keep their source order."""

    output: str
    module: str
    args: tuple[Arg, ...] = ()
    span: Span = field(default=NOWHERE, compare=False, repr=False)
    module_span: Span = field(default=NOWHERE, compare=False, repr=False)

    def arg(self, name: str, default: Any = None) -> Value:
        for arg in self.args:
            if arg.name == name:
                return arg.value
        return default

    @property
    def kwargs(self) -> dict[str, Value]:
        return {a.name: a.value for a in self.args}

    def refs(self) -> list[Ref]:
        """Every variable this step reads, in argument order (inside lists too)."""
        found: list[Ref] = []

        def visit(value):
            if isinstance(value, Ref):
                found.append(value)
            elif isinstance(value, tuple):
                for item in value:
                    visit(item)

        for arg in self.args:
            visit(arg.value)
        return found


@dataclass(frozen=True)
class Program:
    """``files`` maps input names to the image files the source named (task lists name files)."""

    steps: tuple[Step, ...]
    source: str = field(default="", compare=False, repr=False)
    files: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.steps)

    def step_defining(self, name: str) -> Step | None:
        for step in self.steps:
            if step.output == name:
                return step
        return None


# ---- JSON -------------------------------------------------------------------------------------------

def value_to_json(value: Value):
    if isinstance(value, Ref):
        return {"ref": value.name}
    if isinstance(value, tuple):
        return [value_to_json(v) for v in value]
    return value


def value_from_json(data) -> Value:
    if isinstance(data, dict):
        if set(data) != {"ref"} or not isinstance(data["ref"], str):
            raise ValueError(f"a value object must be {{'ref': NAME}}; got {data!r}")
        return Ref(data["ref"])
    if isinstance(data, list):
        return tuple(value_from_json(v) for v in data)
    if isinstance(data, float) and not math.isfinite(data):
        raise ValueError(f"numbers must be finite; got {data!r}")
    if data is None or isinstance(data, (str, int, float, bool)):
        return data
    raise ValueError(f"unsupported value {data!r}")


def program_to_json(program: Program) -> dict:
    """``{"steps": [{"output": ..., "module": ..., "args": {name: value}}]}``; refs are ``{"ref": NAME}``."""
    return {"steps": [
        {"output": s.output, "module": s.module, "args": {a.name: value_to_json(a.value) for a in s.args}}
        for s in program.steps
    ]}


def program_from_json(data: Mapping) -> Program:
    """Inverse of ``program_to_json``. Raises ``ProgramError`` naming the step on malformed data."""
    from programs.errors import ProgramError

    try:
        steps = []
        for index, raw in enumerate(data["steps"], start=1):
            args = tuple(Arg(str(k), value_from_json(v), Span(index, 0)) for k, v in raw.get("args", {}).items())
            steps.append(Step(str(raw["output"]), str(raw["module"]), args, Span(index, 1)))
        return Program(tuple(steps))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ProgramError.at(f"malformed program JSON: {error}",
                              suggestion='expected {"steps": [{"output", "module", "args"}]}') from None
