"""What the ranking planner runs after one of its programs failed at run time (``RankPlanner.replan``).

The failure is read from the failed steps' records (``failures``: plain data, as the agent's state carries
them: ``{"line", "output", "module", "args", "refused", "error"}``, one per step that failed or timed out);
the first of them (by line) is the failed step, found in the failed program by its output variable. The
failure is blamed on steps of the failed program (``blamed``):

* the step whose own literal the record's error quotes: ``SELECT: the lite tier cannot judge the query
  'truck at the kerb'``, ``REPLACE: ... cannot paint 'a fire engine'``, ``'telly' is not supported``; else
* the nearest step the failed one reads from whose literal the error names: CROP's ``no bottle found in
  x.jpg; nothing to crop`` blames the LOC of the bottle, not the CROP; else
* every step the failed one reads from (the failed step itself when it reads only the inputs).

A candidate that runs the blamed computation again (a step of the same module with the blamed literals:
the quoted or named one, else all; whatever its variable names) would fail the same way and is left
out. Of the others, the planner takes, in order:

1. the failed program's own sketch with the blamed step's phrase made simpler, i.e. a candidate where it
   reads a part of the failed phrase ('truck at the kerb' -> 'truck', its head noun), best total first;
2. any other candidate, best total first, above ``floor``.

A question whose failure says the object is not there ("no giraffe found") is replanned only into a program
that still looks for it (another detector, a simpler phrase): a program that answers without it (the colour of
the whole photo for "what colour is the giraffe?") would answer a question nobody asked, so with none the
failure stands. Text is the exception: a label the detector missed the bottle of may still be read in the whole
photo. An edit is replanned only into a program that makes the same edits (it has every image-writing module of
the failed program): "turn the truck into a fire engine" never becomes a crop or a TAG of the truck. With no
such candidate there is nothing to replan, and the failure (the lite tier's refusal to paint, say) stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from loupe.programs.errors import ProgramError
from loupe.programs.ir import Program, Step
from loupe.programs.parser import parse_program

_WORD = re.compile(r"[a-z0-9]+")


def first_failure(failures: Sequence[Mapping]) -> Mapping | None:
    """The record of the first step that failed (the lowest line); None when there is none."""
    return min(failures, key=lambda record: record.get("line", 0), default=None)


def failed_step(program: Program, failure: Mapping) -> Step | None:
    """The step of ``program`` a failure record is about: the one with its output (else its line)."""
    output = failure.get("output")
    return next((s for s in program.steps if s.output == output), None) or \
        next((s for s in program.steps if s.span.line == failure.get("line")), None)


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


def blamed(program: Program | str, failures: Sequence[Mapping]) -> list[Blame]:
    """What the failure is blamed on (see the module docstring); empty when there is no failed step's
    record, its step is not in the program, or the program does not parse."""
    failure = first_failure(failures)
    if failure is None:
        return []
    try:
        program = parse_program(program) if isinstance(program, str) else program
    except ProgramError:
        return []
    failed = failed_step(program, failure)
    if failed is None:
        return []
    steps, message = program.steps, str(failure.get("error", ""))
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
    """Whether ``program`` makes every kind of edit ``failed`` makes (its image-writing modules), and none
    where ``failed`` made none: a question is not replanned into an edit of the photo."""
    wanted = {s.module for s in failed.steps if writes_image(s.module)}
    made = {s.module for s in program.steps if writes_image(s.module)}
    return wanted <= made and (bool(wanted) or not made)


def choose(failed_text: str, failures: Sequence[Mapping], ranked: Sequence, floor: float,
           writes_image: Callable[[str], bool]) -> list:
    """The ranked candidates (objects with ``program``, its text, and ``total``; ``ir``, the program itself,
    when they have it) worth running after ``failed_text`` failed with the step records ``failures``, in
    the order to try them (see the module docstring; the failed program's sketch is its sequence of
    modules: a filling of it may have been found first under another sketch)."""
    failed = parse_program(failed_text)
    culprits = blamed(failed, failures)
    shape = [s.module for s in failed.steps]
    asks = not any(writes_image(module) for module in shape)   # an edit keeps its edits (below), a question its thing
    missing = absent(failures) if asks and "OCR" not in shape else ""   # text may be read though its object was missed
    allowed = []
    for candidate in ranked:
        program = getattr(candidate, "ir", None)
        program = parse_program(candidate.program) if program is None else program
        if candidate.program == failed_text or repeats(program, culprits) \
                or not edits_kept(program, failed, writes_image) or (missing and not looks_for(program, missing)):
            continue
        simpler = len(culprits) == 1 and [s.module for s in program.steps] == shape \
            and any(culprits[0].simpler_in(step) for step in program.steps)
        if simpler or candidate.total >= floor:
            allowed.append((not simpler, -candidate.total, len(allowed), candidate))
    return [candidate for *_, candidate in sorted(allowed, key=lambda item: item[:3])]


_ABSENT = re.compile(r"\bno ([a-z][a-z ]*?) (?:was |were )?found\b")
_FACE_WORDS = frozenset({"face", "faces", "person", "people", "man", "woman", "child", "boy", "girl"})


def absent(failures: Sequence[Mapping]) -> str:
    """The thing the first failed step found none of ('no giraffe found in x.jpg; nothing to crop' ->
    'giraffe'), or '' when the failure is of another kind (a phrase the tier cannot judge, a crash)."""
    failure = first_failure(failures)
    found = _ABSENT.search(str(failure.get("error", "")).lower()) if failure else None
    return found.group(1).strip() if found else ""


def looks_for(program: Program, thing: str) -> bool:
    """Whether ``program`` looks for ``thing`` itself (a LOC or SELECT naming it; FACEDET for a face or a
    person). A program that does not answers without it: 'what colour is the giraffe?' with no giraffe found
    is not answered by the colour of the whole photo."""
    words = set(_WORD.findall(thing)) | {w.rstrip("s") for w in _WORD.findall(thing)}
    for step in program.steps:
        named = " ".join(str(step.arg(name) or "") for name in ("object", "query", "category")).lower()
        if step.module in ("LOC", "SELECT") and words & ({w.rstrip("s") for w in _WORD.findall(named)}
                                                         | set(_WORD.findall(named))):
            return True
        if step.module == "FACEDET" and words & _FACE_WORDS:
            return True
    return False


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
