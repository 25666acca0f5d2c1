"""Tokenizer shared by the program parser and the EVAL expression parser. Never evaluates anything."""

from __future__ import annotations

from dataclasses import dataclass
import math
import re

from loupe.programs.errors import Diagnostic

NAME, NUMBER, STRING, OP, END = "name", "number", "string", "op", "end"

MAX_NUMBER_CHARS = 400
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")   # also read by the decoding constraint (agent.planning.constraints)
NUMBER_PATTERN = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
QUOTES = "'\""
_OPS = ("==", "!=", "<=", ">=", "//", "=", ",", "(", ")", "[", "]", "{", "}",
        "+", "-", "*", "/", "%", "<", ">")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
_CURLY_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str          # the exact source text
    value: object      # str for names/ops/strings, int|float for numbers
    column: int        # 1-based column of the first character


class LexError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def tokenize(text: str, line: int = 1, column_offset: int = 0) -> list[Token]:
    """Tokens of one line of source. ``#`` starts a comment outside strings. Ends with an END token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        col = pos + 1 + column_offset
        if char in " \t\r\f\v":
            pos += 1
        elif char == "#":
            break
        elif char in QUOTES:
            value, end = _read_string(text, pos, line, column_offset)
            tokens.append(Token(STRING, text[pos:end], value, col))
            pos = end
        elif match := NUMBER_PATTERN.match(text, pos):
            literal = match.group()
            tokens.append(Token(NUMBER, literal, _number(literal, line, col), col))
            pos = match.end()
        elif match := NAME_PATTERN.match(text, pos):
            tokens.append(Token(NAME, match.group(), match.group(), col))
            pos = match.end()
        else:
            op = next((o for o in _OPS if text.startswith(o, pos)), None)
            if op is None:
                raise LexError(Diagnostic(f"unexpected character {char!r}", line, col, char,
                                          _hint_for_character(char)))
            tokens.append(Token(OP, op, op, col))
            pos += len(op)
    tokens.append(Token(END, "", None, len(text) + 1 + column_offset))
    return tokens


def _number(literal: str, line: int, column: int) -> int | float:
    """The value of a number literal; too long or out of the finite float range is an error."""
    if len(literal) <= MAX_NUMBER_CHARS:
        number = float(literal) if any(c in literal for c in ".eE") else int(literal)
        if not isinstance(number, float) or math.isfinite(number):
            return number
    raise LexError(Diagnostic("number out of range", line, column, literal[:20],
                              f"write numbers of at most {MAX_NUMBER_CHARS} characters, below 1e308"))


def _read_string(text: str, start: int, line: int, column_offset: int) -> tuple[str, int]:
    value, end, closed = read_string_prefix(text, start)
    if closed:
        return value, end
    quote = text[start]
    raise LexError(Diagnostic(
        f"unterminated string: no closing {quote}", line, start + 1 + column_offset, text[start:start + 20],
        f"end the string with {quote}; write \\{quote} for a quote inside it"))


def read_string_prefix(text: str, start: int) -> tuple[str, int, bool]:
    """The string literal whose quote is ``text[start]``: ``(value, end, closed)``; when the text ends
    before the closing quote, ``closed`` is False and ``value`` holds what was read (a prefix)."""
    quote = text[start]
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return "".join(out), pos + 1, True
        if char == "\\" and pos + 1 < len(text):
            nxt = text[pos + 1]
            width = {"u": 4, "U": 8}.get(nxt, 0)
            digits = text[pos + 2:pos + 2 + width]
            if width and re.fullmatch(r"[0-9a-fA-F]{%d}" % width, digits) and int(digits, 16) <= 0x10FFFF:
                out.append(chr(int(digits, 16)))
                pos += 2 + width
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            pos += 2
            continue
        out.append(char)
        pos += 1
    return "".join(out), pos, False


def _hint_for_character(char: str) -> str:
    if char in _CURLY_QUOTES:
        return f"use a straight quote {_CURLY_QUOTES[char]} instead of {char}"
    if char == ":":
        return "write arguments as name=value, not name: value"
    if char == ";":
        return "write one step per line"
    return ""
