"""Render the IR back to VisProg program text, such that ``parse_program(render(p)) == p``."""

from __future__ import annotations

import math

from programs.ir import Program, Ref, Step, Value

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def render_value(value: Value) -> str:
    if isinstance(value, Ref):
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
    args = ",".join(f"{a.name}={render_value(a.value)}" for a in step.args)
    return f"{step.output}={step.module}({args})"


def render(program: Program) -> str:
    """VisProg text, one step per line, with a trailing newline."""
    return "".join(render_step(s) + "\n" for s in program.steps)
