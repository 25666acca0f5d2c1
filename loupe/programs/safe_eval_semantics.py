"""How EVAL expressions compute: typed values, normalised (yes/no -> bool, numeric text -> number).

The tree comes from ``loupe.programs.safe_eval``; nothing here parses or executes text.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

from loupe.programs.errors import ProgramError
from loupe.programs.safe_eval_nodes import Binary, Compare, Const, IfElse, Text, Unary, Var
from loupe.programs.values import Image, Objects, as_text

MAX_TEXT_CHARS = 10_000
#: the largest whole number EVAL computes with, in decimal digits (a count, an area, a year fits easily;
#: growth by repeated multiplication fails fast instead of hanging). Checked by bit length before the
#: operation runs, so a too-large product is never computed.
MAX_INT_DIGITS = 1_000
MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBER_WORDS["none"] = 0


def evaluate(tree, env: Mapping[str, object]):
    """The value of an expression tree; ``env`` maps variable names to runtime values."""
    return _evaluate(tree, env)


def normalize(value):
    """Text yes/no/true/false -> bool; text that reads as a number -> int or float; else unchanged."""
    if not isinstance(value, str):
        return value
    word = value.strip().lower().rstrip(".!")
    if word in ("yes", "true"):
        return True
    if word in ("no", "false"):
        return False
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    try:
        number = float(word)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return int(number) if number.is_integer() and "." not in word and "e" not in word else number


def _lookup(var: Var, env: Mapping[str, object]):
    if var.name not in env:
        raise ProgramError.at(f"EVAL uses {{{var.name}}}, which has no value", 0, var.column)
    value = env[var.name]
    if isinstance(value, (Objects, Image)):
        kind = "Objects" if isinstance(value, Objects) else "an Image"
        raise ProgramError.at(f"EVAL works on numbers, text and yes/no; {{{var.name}}} holds {kind}",
                              0, var.column, suggestion="COUNT objects or ask VQA first")
    return value


def _evaluate(node, env):
    handler = _HANDLERS.get(type(node))
    return handler(node, env)


def _arith(op: str, left, right):
    left, right = normalize(left), normalize(right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        if len(left) + len(right) > MAX_TEXT_CHARS:
            raise ProgramError.at(f"EVAL text longer than {MAX_TEXT_CHARS} characters")
        return left + right
    if not all(isinstance(v, (int, float)) and v is not None for v in (left, right)):
        raise ProgramError.at(f"EVAL cannot apply {op} to {_kind(left)} and {_kind(right)}")
    if op in ("/", "//", "%") and right == 0:
        raise ProgramError.at(f"EVAL divides by zero ({_short(left)} {op} 0)")
    _check_size(op, left, right)
    try:
        result = _ARITH[op](left, right)
    except OverflowError:
        raise ProgramError.at("EVAL arithmetic overflowed") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise ProgramError.at("EVAL arithmetic overflowed")
    return result


def _check_size(op: str, left, right) -> None:
    """Refuse an operation whose whole-number result could exceed ``MAX_INT_DIGITS`` digits (before it runs:
    bit lengths bound the result's size, ``+ -`` by one bit more, ``*`` by their sum)."""
    bits = [abs(int(v)).bit_length() for v in (left, right) if isinstance(v, int)]
    if not bits:
        return
    bound = {"+": max(bits) + 1, "-": max(bits) + 1, "*": sum(bits) if len(bits) == 2 else 0}.get(op, max(bits))
    if bound > MAX_INT_BITS:
        raise ProgramError.at(f"EVAL number too large: {_short(left)} {op} {_short(right)} could have more "
                              f"than {MAX_INT_DIGITS} digits", suggestion="EVAL is for counts and small "
                              "arithmetic; keep numbers below 10**1000")


def _short(value) -> str:
    """A value as text for a message, whole numbers of any size included, at most ~40 characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"a {_digits(value)}-digit number"
    return as_text(value)[:40]


def _digits(value: int) -> int:
    """How many decimal digits ``value`` has (approximately, without converting it to text)."""
    return max(1, int(abs(value).bit_length() * math.log10(2)) + 1)


_ARITH: dict[str, Callable] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
}


def _kind(value) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "None"
    return f"text {_short(value)!r}"


def _compare(op: str, left, right) -> bool:
    left, right = normalize(left), normalize(right)
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.strip().lower(), right.strip().lower()
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    numbers = all(isinstance(v, (int, float)) and v is not None for v in (left, right))
    if not numbers and not (isinstance(left, str) and isinstance(right, str)):
        raise ProgramError.at(f"EVAL cannot order {_kind(left)} and {_kind(right)} with {op}")
    return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]


def _truth(value) -> bool:
    value = normalize(value)
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def _binary(node: Binary, env):
    if node.op == "and":
        return _truth(_evaluate(node.left, env)) and _truth(_evaluate(node.right, env))
    if node.op == "or":
        return _truth(_evaluate(node.left, env)) or _truth(_evaluate(node.right, env))
    if node.op == "xor":
        return _truth(_evaluate(node.left, env)) != _truth(_evaluate(node.right, env))
    return _arith(node.op, _evaluate(node.left, env), _evaluate(node.right, env))


def _unary(node: Unary, env):
    value = _evaluate(node.operand, env)
    if node.op == "not":
        return not _truth(value)
    value = normalize(value)
    if not isinstance(value, (int, float)) or value is None:
        raise ProgramError.at(f"EVAL cannot apply unary {node.op} to {_kind(value)}")
    return -value if node.op == "-" else +value


def _chain(node: Compare, env) -> bool:
    left = _evaluate(node.first, env)
    for op, operand in node.rest:
        right = _evaluate(operand, env)
        if not _compare(op, left, right):
            return False
        left = right
    return True


def _text(node: Text, env) -> str:
    out = "".join(p if isinstance(p, str) else as_text(_lookup(p, env)) for p in node.parts)
    if len(out) > MAX_TEXT_CHARS:
        raise ProgramError.at(f"EVAL text longer than {MAX_TEXT_CHARS} characters")
    return out


_HANDLERS: dict[type, Callable] = {
    Const: lambda node, env: node.value,
    Var: lambda node, env: _lookup(node, env),
    Text: _text,
    Unary: _unary,
    Binary: _binary,
    Compare: _chain,
    IfElse: lambda node, env: _evaluate(node.then, env) if _truth(_evaluate(node.condition, env))
    else _evaluate(node.otherwise, env),
}
