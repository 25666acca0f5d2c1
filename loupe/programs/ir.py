"""The one intermediate representation of a Loupe program, for VisProg text and HuggingGPT task lists.

A ``Program`` is a tuple of ``Step``; a step assigns the output of one module call to a variable::

    BOX0=LOC(image=IMAGE,object='tie')   ->   Step("BOX0", "LOC", (("image", Ref("IMAGE")), ("object", "tie")))

Argument values are literals (``str``, ``int``, ``float``, ``bool``, ``None``, tuples of these) or
``Ref`` (a variable). ``Span`` records where a thing stood in the source; it never takes part in
equality, so ``parse(render(p)) == p``.

A *sketch* is a program some of whose values are left open: a ``Hole`` stands for a whole argument value
(``LOC(image=IMAGE,object=<object0>)``) and a ``Template`` is text with holes in it (EVAL's
``{ANSWER0} <op0> <number0>``). Holes are made in code, never read from text or JSON; the checker checks
a sketch as far as it can (``checker.check_sketch``) and refuses to pass one for running (``check``);
``fill`` gives the program with every hole replaced by a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import re
from typing import Any, Callable, Iterator, Mapping, Union

MAX_LIST_DEPTH = 8       # lists in lists, as deep as the parser reads them
MAX_NUMBER_CHARS = 400   # the longest number literal the lexer reads
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONSTANT_NAMES = ("True", "False", "None")
#: a peer's module names read as Loupe's. VisProg's GQA prompt lists CROP_FRONTOF, CROP_INFRONT, CROP_INFRONTOF,
#: CROP_BEHIND and CROP_AHEAD, and its interpreter runs each as CROP, the object's own box (its
#: engine/step_interpreters.py: each class only subclasses CropInterpreter): Loupe does the same, so
#: VisProg's published programs keep their meaning (a "did you mean CROP_BELOW?" repair would change it).
MODULE_ALIASES: Mapping[str, str] = {name: "CROP" for name in (
    "CROP_FRONTOF", "CROP_INFRONT", "CROP_INFRONTOF", "CROP_BEHIND", "CROP_AHEAD")}


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


@dataclass(frozen=True)
class Hole:
    """A value left open. ``kind`` names what may fill it (the planner's word: 'object', 'number', ...),
    ``n`` which of the holes of that kind (a hole used twice takes one value), ``default`` the value it had
    in the program it was made from, or None. Its type is that of the argument it stands for."""

    kind: str
    n: int = 0
    default: Any = None

    def __str__(self) -> str:
        return f"<{self.kind}{self.n}>"


@dataclass(frozen=True)
class Template:
    """Text with holes in it: ``parts`` are text and ``Hole``s in order. Filled, each hole's value is written
    into the text as ``str(value)``. ``str(template)`` shows the holes as markers (``<op0>``)."""

    parts: tuple

    def __str__(self) -> str:
        return "".join(str(part) for part in self.parts)

    @property
    def holes(self) -> tuple[Hole, ...]:
        return tuple(part for part in self.parts if isinstance(part, Hole))


Value = Union[Ref, Hole, Template, str, int, float, bool, None, tuple]


@dataclass(frozen=True, eq=False)
class Arg:
    """``name=value``. Equality compares values with their types: ``1``, ``1.0`` and ``True`` differ."""

    name: str
    value: Value
    span: Span = field(default=NOWHERE, compare=False, repr=False)
    value_span: Span = field(default=NOWHERE, compare=False, repr=False)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Arg):
            return NotImplemented
        return self.name == other.name and _typed(self.value) == _typed(other.value)

    def __hash__(self) -> int:
        return hash((self.name, _typed(self.value)))


def _typed(value: Value):
    if isinstance(value, tuple):
        return tuple, tuple(_typed(v) for v in value)
    return type(value), value


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
    """``files`` maps input names to the image files the source named (task lists name files); ``notes`` are
    what reading the source decided that a person should know (a task list with several final tasks says
    which one it returns)."""

    steps: tuple[Step, ...]
    source: str = field(default="", compare=False, repr=False)
    files: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    notes: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.steps)

    def step_defining(self, name: str) -> Step | None:
        for step in self.steps:
            if step.output == name:
                return step
        return None


# ---- holes ------------------------------------------------------------------------------------------

def holes_in(value: Value) -> Iterator[Hole]:
    """Every hole inside a value (in lists and templates too), in order."""
    if isinstance(value, Hole):
        yield value
    elif isinstance(value, Template):
        yield from value.holes
    elif isinstance(value, tuple):
        for item in value:
            yield from holes_in(item)


def program_holes(program: Program) -> tuple[Hole, ...]:
    """Every hole of the program, in step and argument order (a hole used twice is listed twice)."""
    return tuple(hole for step in program.steps for arg in step.args for hole in holes_in(arg.value))


def fill(program: Program, value_of: Callable[[Hole], Value]) -> Program:
    """The program with each hole replaced by ``value_of(hole)`` (called once per place the hole stands;
    in a template, the value is written into the text). Spans are kept; the source is not (it had holes)."""

    def filled(value: Value) -> Value:
        if isinstance(value, Hole):
            return value_of(value)
        if isinstance(value, Template):
            return "".join(part if isinstance(part, str) else str(value_of(part)) for part in value.parts)
        if isinstance(value, tuple):
            return tuple(filled(item) for item in value)
        return value

    steps = tuple(Step(s.output, s.module, tuple(Arg(a.name, filled(a.value), a.span, a.value_span) for a in s.args),
                       s.span, s.module_span) for s in program.steps)
    return Program(steps, "", program.files)


# ---- JSON -------------------------------------------------------------------------------------------

def value_to_json(value: Value):
    """A value as JSON: a ref is ``{"ref": NAME}``; a hole ``{"hole": KIND, "n": N}`` (with its
    ``"default"`` when it has one) and a template ``{"text": [parts]}``, which ``value_from_json`` does not
    read back (holes are made in code, never read)."""
    if isinstance(value, Ref):
        return {"ref": value.name}
    if isinstance(value, Hole):
        data = {"hole": value.kind, "n": value.n}
        return data if value.default is None else {**data, "default": value_to_json(value.default)}
    if isinstance(value, Template):
        return {"text": [value_to_json(part) for part in value.parts]}
    if isinstance(value, tuple):
        return [value_to_json(v) for v in value]
    return value


def value_from_json(data, depth: int = 0) -> Value:
    """A value from JSON: ``{"ref": NAME}``, a list, or a literal. Raises ``ValueError``."""
    if isinstance(data, dict):
        if set(data) != {"ref"} or not is_variable_name(data["ref"]):
            raise ValueError(f"a value object must be {{'ref': NAME}} with NAME a variable name; got {data!r:.60}")
        return Ref(data["ref"])
    if isinstance(data, list):
        if depth >= MAX_LIST_DEPTH:
            raise ValueError(f"lists nested deeper than {MAX_LIST_DEPTH}")
        return tuple(value_from_json(v, depth + 1) for v in data)
    if isinstance(data, float) and not math.isfinite(data):
        raise ValueError(f"numbers must be finite; got {data!r}")
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) >= 10 ** MAX_NUMBER_CHARS:
        raise ValueError(f"integers must have fewer than {MAX_NUMBER_CHARS} digits")
    if data is None or isinstance(data, (str, int, float, bool)):
        return data
    raise ValueError(f"unsupported value {data!r:.60}")


def is_variable_name(name) -> bool:
    """True for names a program can write: ``BOX0``, ``IMAGE`` (not ``True``, ``False``, ``None``)."""
    return isinstance(name, str) and bool(_IDENTIFIER.fullmatch(name)) and name not in _CONSTANT_NAMES


def _name(value, what: str, variable: bool = False) -> str:
    if not (is_variable_name(value) if variable else isinstance(value, str) and _IDENTIFIER.fullmatch(value)):
        raise ValueError(f"{what} must be a name of letters, digits and _; got {value!r:.60}")
    return value


def program_to_json(program: Program) -> dict:
    """``{"steps": [{"output": ..., "module": ..., "args": {name: value}}]}``; refs are ``{"ref": NAME}``.

    Raises ``ValueError`` for a step that gives an argument twice (a JSON object cannot hold both)."""
    for step in program.steps:
        if len({a.name for a in step.args}) != len(step.args):
            raise ValueError(f"step {step.output} gives an argument twice; JSON cannot hold both")
    return {"steps": [
        {"output": s.output, "module": s.module, "args": {a.name: value_to_json(a.value) for a in s.args}}
        for s in program.steps
    ]}


def program_from_json(data: Mapping) -> Program:
    """Inverse of ``program_to_json``. Raises ``ProgramError`` naming the step on malformed data."""
    from loupe.programs.errors import ProgramError

    index = 0
    try:
        if not isinstance(data, Mapping) or not isinstance(data["steps"], list) or not data["steps"]:
            raise ValueError("a program is an object with a non-empty list \"steps\"")
        steps = []
        for index, raw in enumerate(data["steps"], start=1):
            args = raw.get("args", {})
            if not isinstance(args, Mapping):
                raise ValueError(f"args must be an object; got {args!r:.60}")
            args = tuple(Arg(_name(k, "an argument"), value_from_json(v), Span(index, 0)) for k, v in args.items())
            steps.append(Step(_name(raw["output"], "output", variable=True), _name(raw["module"], "module"),
                              args, Span(index, 1)))
        return Program(tuple(steps))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        where = f"step {index}: " if index else ""
        raise ProgramError.at(f"malformed program JSON: {where}{error}", index,
                              suggestion='expected {"steps": [{"output", "module", "args"}]}') from None
