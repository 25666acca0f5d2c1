"""Render the IR back to VisProg program text, such that ``parse_program(render(p)) == p``.

A program with holes (a sketch) has no text that parses; ``render(p, holes=True)`` shows it for people and
prompts, with each hole as its marker (``<object0>``). ``placed(p)`` gives a program the spans its text would
give it, without rendering and parsing it again."""

from __future__ import annotations

import math

import re

from loupe.programs.ir import Arg, Hole, Program, Ref, Span, Step, Template, Value, is_variable_name

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def render_value(value: Value, holes: bool = False) -> str:
    """A value's text; a hole (or text with holes) raises ``ValueError`` unless ``holes`` shows it."""
    if isinstance(value, (Hole, Template)):
        if not holes:
            raise ValueError(f"cannot render the hole {value}: fill it first")
        return str(value) if isinstance(value, Hole) else render_value(str(value))
    if isinstance(value, Ref):
        if not is_variable_name(value.name):
            raise ValueError(f"cannot render a reference to {value.name!r}: not a variable name")
        return value.name
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot render the non-finite number {value!r}")
        return repr(value)
    if isinstance(value, str):
        quote = '"' if "'" in value and '"' not in value else "'"
        return quote + "".join("\\" + c if c == quote else _escape(c) for c in value) + quote
    if isinstance(value, tuple):
        return "[" + ",".join(render_value(v, holes) for v in value) + "]"
    raise TypeError(f"cannot render a {type(value).__name__} value")


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def render_step(step: Step, holes: bool = False) -> str:
    if not is_variable_name(step.output):
        raise ValueError(f"cannot render a step with the output {step.output!r}: use letters, digits and _")
    return f"{step.output}={render_call(step, holes)}"


def render_call(step: Step, holes: bool = False) -> str:
    """The step's call without its output, ``MODULE(name=value,...)`` (two steps making the same call)."""
    names = [step.module] + [a.name for a in step.args]
    if not all(_IDENTIFIER.fullmatch(n) for n in names):
        raise ValueError(f"cannot render a step with the names {names!r}: use letters, digits and _")
    args = ",".join(f"{a.name}={render_value(a.value, holes)}" for a in step.args)
    return f"{step.module}({args})"


def render(program: Program, holes: bool = False) -> str:
    """VisProg text, one step per line, with a trailing newline (``holes``: see the module docstring)."""
    return "".join(render_step(s, holes) + "\n" for s in program.steps)


def placed(program: Program) -> Program:
    """``program`` as ``parse_program(render(program))`` would read it, without parsing: every step, argument
    and reference with the span its rendered text gives it (step ``i`` on line ``i + 1``), the text as its
    source. Raises ``ValueError`` as ``render`` does."""
    steps = []
    for line, step in enumerate(program.steps, start=1):
        render_step(step)  # the names and values must render
        column = len(step.output) + 2                      # OUT=
        module_at = column
        column += len(step.module) + 1                     # MODULE(
        args = []
        for index, arg in enumerate(step.args):
            column += 1 if index else 0                    # ,
            name_at = column
            column += len(arg.name) + 1                    # name=
            value, end = _placed_value(arg.value, line, column)
            args.append(Arg(arg.name, value, Span(line, name_at), Span(line, column)))
            column = end
        steps.append(Step(step.output, step.module, tuple(args), Span(line, 1), Span(line, module_at)))
    return Program(tuple(steps), render(program), program.files)


def _placed_value(value: Value, line: int, column: int) -> tuple[Value, int]:
    """The value with its references placed from ``column``, and the column after its text."""
    if isinstance(value, Ref):
        return Ref(value.name, Span(line, column)), column + len(value.name)
    if isinstance(value, tuple):
        items, column = [], column + 1                     # [
        for index, item in enumerate(value):
            column += 1 if index else 0                    # ,
            item, column = _placed_value(item, line, column)
            items.append(item)
        return tuple(items), column + 1                    # ]
    return value, column + len(render_value(value))
