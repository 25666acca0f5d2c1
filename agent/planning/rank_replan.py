"""What the ranking planner runs after one of its programs failed at run time (``RankPlanner.replan``).

The failure is blamed on steps of the failed program (``blamed``):

* the step whose own literal the error quotes: ``SELECT: the lite tier cannot judge the query 'truck at
  the kerb'``, ``REPLACE: ... cannot paint 'a fire engine'``, ``'telly' is not supported``; else
* the nearest step the failed one reads from whose literal the error names: ``line 2 (IMAGE0=CROP): no
  bottle found in x.jpg; nothing to crop`` blames the LOC of the bottle, not the CROP; else
* every step the failed one reads from (the failed step itself when it reads only the inputs).

A candidate that runs the blamed computation again (a step of the same module with the blamed literals:
the quoted or named one, else all; whatever its variable names) would fail the same way and is left
out. Of the others, the planner takes, in order:

1. the failed program's own sketch with the blamed step's phrase made simpler, i.e. a candidate where it
   reads a part of the failed phrase ('truck at the kerb' -> 'truck', its head noun), best total first;
2. any other candidate, best total first, above ``floor``.

An edit is replanned only into a program that makes the same edits (it has every image-writing module of
the failed program): "turn the truck into a fire engine" never becomes a crop or a TAG of the truck. With no
such candidate there is nothing to replan, and the failure (the lite tier's refusal to paint, say) stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from programs.errors import ProgramError
from programs.ir import Program, Step
from programs.parser import parse_program

_FAILED_LINE = re.compile(r"line (\d+) \(")
_WORD = re.compile(r"[a-z0-9]+")


def failed_line(errors: Iterable) -> tuple[int, str]:
    """The first line number the errors name ("line 3 (IMAGE0=REPLACE): ...") and the text of the errors
    about that line; ``(0, "")`` when none is named."""
    named = [(int(m.group(1)), str(e)) for e in errors for m in [_FAILED_LINE.match(str(e))] if m]
    if not named:
        return 0, ""
    first = min(number for number, _ in named)
    return first, " ".join(text for number, text in named if number == first)


@dataclass(frozen=True)
class Blame:
    """A step the failure is blamed on: its module and the literal arguments blamed (the one the error
    quotes or names; else all of them)."""

    module: str
    args: tuple[tuple[str, str], ...]

    def matches(self, step: Step) -> bool:
        """Whether ``step`` would run the blamed computation again."""
        literals = _literals(step)
        return step.module == self.module and all(literals.get(name) == value for name, value in self.args)

    def simpler_in(self, step: Step) -> bool:
        """Whether ``step`` reads a part of each blamed phrase ('truck' of 'truck at the kerb') or
        leaves it out, and is not the same."""
        literals = _literals(step)
        verdicts = [_simpler(literals.get(name), value) for name, value in self.args]
        return step.module == self.module and bool(verdicts) and None not in verdicts and any(verdicts)


def blamed(program_text: str, errors) -> list[Blame]:
    """What the failure is blamed on (see the module docstring); empty when no line is named or the
    program does not parse."""
    number, message = failed_line(errors)
    try:
        steps = parse_program(program_text).steps
    except ProgramError:
        return []
    failed = next((s for s in steps if s.span.line == number), None)
    if failed is None:
        return []
    behind = _behind(steps, failed)
    for test, chain in ((_quoted, [failed] + behind), (_named, behind)):
        for step in chain:
            hit = tuple((name, value) for name, value in _literals(step).items() if test(value, message))
            if hit:
                return [Blame(step.module, hit)]
    return [Blame(step.module, tuple(_literals(step).items())) for step in behind or [failed]]


def repeats(program: Program, blames: Sequence[Blame]) -> bool:
    """Whether ``program`` runs every blamed computation again (whatever its variable names)."""
    return bool(blames) and all(any(b.matches(s) for s in program.steps) for b in blames)


def edits_kept(program: Program, failed: Program, writes_image: Callable[[str], bool]) -> bool:
    """Whether ``program`` makes every kind of edit ``failed`` makes (its image-writing modules)."""
    wanted = {s.module for s in failed.steps if writes_image(s.module)}
    return wanted <= {s.module for s in program.steps}


def choose(failed_text: str, errors, ranked: Sequence, floor: float, writes_image: Callable[[str], bool]) -> list:
    """The ranked candidates (objects with ``program`` and ``total``) worth running after ``failed_text``
    failed with ``errors``, in the order to try them (see the module docstring; the failed program's
    sketch is its sequence of modules: a filling of it may have been found first under another sketch)."""
    failed = parse_program(failed_text)
    culprits = blamed(failed_text, errors)
    shape = [s.module for s in failed.steps]
    allowed = []
    for candidate in ranked:
        program = parse_program(candidate.program)
        if candidate.program == failed_text or repeats(program, culprits) \
                or not edits_kept(program, failed, writes_image):
            continue
        simpler = len(culprits) == 1 and [s.module for s in program.steps] == shape \
            and any(culprits[0].simpler_in(step) for step in program.steps)
        if simpler or candidate.total >= floor:
            allowed.append((not simpler, -candidate.total, len(allowed), candidate))
    return [candidate for *_, candidate in sorted(allowed, key=lambda item: item[:3])]


def _behind(steps: Sequence[Step], failed: Step) -> list[Step]:
    """The steps ``failed`` reads from, transitively, nearest first."""
    outputs = {s.output: s for s in steps}
    found: list[Step] = []
    todo = [failed]
    while todo:
        step = todo.pop(0)
        names = [r.name for r in step.refs()] + re.findall(r"\{(\w+)\}", str(step.arg("expr", "")))
        for name in names:
            source = outputs.get(name)
            if source is not None and source not in found and source is not failed:
                found.append(source)
                todo.append(source)
    return found


def _literals(step: Step) -> dict:
    """The step's literal text arguments (variables, numbers and None left out)."""
    return {a.name: a.value for a in step.args if isinstance(a.value, str)}


def _quoted(value: str, message: str) -> bool:
    return len(value) > 1 and (f"'{value}'" in message or f'"{value}"' in message)


def _named(value: str, message: str) -> bool:
    words = _WORD.findall(value.lower())
    return bool(words) and re.search(r"\b" + r"\W+".join(words) + r"\b", message.lower()) is not None


def _simpler(mine, failed) -> bool | None:
    """True: simpler than the failed value; False: the same; None: different (not a simplification)."""
    if mine == failed:
        return False
    if mine is None:
        return True
    if isinstance(mine, str):
        words, failed_words = _WORD.findall(mine.lower()), set(_WORD.findall(failed.lower()))
        if words and set(words) < failed_words:
            return True
    return None
