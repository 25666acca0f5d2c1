"""The nodes of a parsed EVAL expression (see ``loupe.programs.safe_eval``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Const:
    value: object

@dataclass(frozen=True)
class Var:
    name: str
    column: int

@dataclass(frozen=True)
class Text:
    """A string literal with placeholders: ``parts`` alternate text and ``Var``."""
    parts: tuple

@dataclass(frozen=True)
class Unary:
    op: str
    operand: object

@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object

@dataclass(frozen=True)
class Compare:
    first: object
    rest: tuple  # ((op, operand), ...)

@dataclass(frozen=True)
class IfElse:
    condition: object
    then: object
    otherwise: object


