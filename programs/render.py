"""Render the IR back to VisProg program text, such that ``parse_program(render(p)) == p``."""

from __future__ import annotations

import math

import re

from programs.ir import Program, Ref, Step, Value, is_variable_name

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def render_value(value: Value) -> str:
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
        return "[" + ",".join(render_value(v) for v in value) + "]"
    raise TypeError(f"cannot render a {type(value).__name__} value")


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def render_step(step: Step) -> str:
    if not is_variable_name(step.output):
        raise ValueError(f"cannot render a step with the output {step.output!r}: use letters, digits and _")
    return f"{step.output}={render_call(step)}"


def render_call(step: Step) -> str:
    """The step's call without its output, ``MODULE(name=value,...)`` (two steps making the same call)."""
    names = [step.module] + [a.name for a in step.args]
    if not all(_IDENTIFIER.fullmatch(n) for n in names):
        raise ValueError(f"cannot render a step with the names {names!r}: use letters, digits and _")
    args = ",".join(f"{a.name}={render_value(a.value)}" for a in step.args)
    return f"{step.module}({args})"


def render(program: Program) -> str:
    """VisProg text, one step per line, with a trailing newline."""
    return "".join(render_step(s) + "\n" for s in program.steps)
