"""Error families of Loupe.

Two families, kept apart (the planner can act on the first, not on the second):

* ``ProgramError`` — the program text, task list or a tool call's arguments are wrong. It carries one or
  more ``Diagnostic`` (line, column, offending text, suggestion) so a planner or a person can fix it.
* ``ToolError`` — a tool failed while running on valid arguments (model crashed, backend missing).

``ImageError`` names an input file and why it cannot be used. ``InputError``: any other input of a
request is unusable (a question too long, an output path that cannot be written).
"""

from __future__ import annotations

from dataclasses import dataclass
import difflib
from typing import Iterable


class LoupeError(Exception):
    """Base of every error Loupe raises on purpose."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a program. ``line`` and ``column`` are 1-based; 0 means unknown."""

    message: str
    line: int = 0
    column: int = 0
    text: str = ""
    suggestion: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        found = f" (at {self.text!r})" if self.text and self.text not in self.message else ""
        hint = f"; {self.suggestion}" if self.suggestion else ""
        return f"{where}{self.message}{found}{hint}"


#: how many diagnostics a ProgramError's message shows; the rest are counted ("... and 9,990 more errors")
MAX_SHOWN_ERRORS = 20


class ProgramError(LoupeError):
    """A bad program: every problem found is in ``diagnostics``, in source order. The message shows
    the first ``MAX_SHOWN_ERRORS`` and how many more there are (``lines()``)."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=lambda d: (d.line, d.column))
        )
        if not self.diagnostics:
            raise ValueError("ProgramError needs at least one diagnostic")
        super().__init__("\n".join(self.lines()))

    def lines(self, limit: int = MAX_SHOWN_ERRORS) -> list[str]:
        """The first ``limit`` diagnostics as text, then one line counting the rest (if any)."""
        shown = [str(d) for d in self.diagnostics[:limit]]
        more = len(self.diagnostics) - len(shown)
        return shown + ([f"... and {more:,} more error{'s' if more > 1 else ''}"] if more else [])

    @classmethod
    def at(cls, message: str, line: int = 0, column: int = 0, text: str = "", suggestion: str = ""):
        """A ProgramError with a single diagnostic."""
        return cls(Diagnostic(message, line, column, text, suggestion))

    @property
    def first(self) -> Diagnostic:
        return self.diagnostics[0]


class ToolError(LoupeError):
    """A tool failed at run time on arguments that were valid."""


class ToolUnavailable(ToolError):
    """A tool's model backend is not installed; the message names what to install or run."""


class ImageError(LoupeError):
    """An input image cannot be used; the message names the file and why."""


class InputError(LoupeError):
    """A request's input other than a program or an image is unusable; the message says which and why."""


def did_you_mean(word: str, choices: Iterable[str], what: str = "") -> str:
    """A suggestion such as ``did you mean LOC?`` or, with no close match, the valid choices."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(word.upper(), [c.upper() for c in choices], n=3, cutoff=0.5)
        close = [c for c in choices if c.upper() in close]
    if close:
        return "did you mean " + " or ".join(close) + "?"
    if len(choices) <= 30:
        return f"valid {what or 'choices'}: " + ", ".join(choices)
    return ""
