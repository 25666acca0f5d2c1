"""Candidate answers from OCR's lines, and how likely each is before a language model has a say.

A question about text in a photo is answered by one *candidate*: a block (lines stacked into one sign
or label, e.g. "Sunset" over "Blvd"), a single line, or one word of a line. ``prior`` is a log-weight
that favours large, confidently read text, whole lines over fragments, the place the question
names ("on the right", "at the bottom") and text shaped like the answer it asks for (a time, a number,
a word).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
import re

from loupe.programs.values import Obj, Objects

BLOCK_GAP = 0.6  # lines whose vertical gap is under this many line heights, and that overlap in x, stack
BLOCK_SIZE_RATIO = 1.6  # ... and whose text sizes differ by less than this factor (a name, not its small print)
KIND_PRIOR = {"block": 0.0, "line": -0.3, "word": -0.8}
POSITION_WEIGHT = 3.0  # log-weight between one edge of the photo and the other
SIZE_WEIGHT = 2.0  # text twice as tall is 4 times as likely (salience goes with area)
SHAPE_WEIGHT = 1.5  # log-weight of text shaped like the answer asked for (a time for "what time")
_WORD = re.compile(r"[A-Za-z]+")
_TIME = re.compile(r"(?<!\d)\d{1,2}\s?[:.]\s?\d{2}(?!\d)")
TIME_WORDS = {"time", "clock", "oclock", "hour"}
NUMBER_WORDS = {"number", "numbers", "digits", "price", "cost", "year", "route", "phone", "code", "plate"}
NAME_WORDS = {"word", "words", "name", "named", "brand", "called", "company", "title", "street", "road"}
POSITIONS = {  # question word -> (axis 0 = x / 1 = y, sign: +1 prefers large coordinates)
    "right": (0, 1), "left": (0, -1), "top": (1, -1), "upper": (1, -1), "above": (1, -1),
    "bottom": (1, 1), "lower": (1, 1), "below": (1, 1),
}


@dataclass(frozen=True)
class Candidate:
    """One possible answer: its ``text``, ``kind`` (block, line or word), box ``(x1, y1, x2, y2)`` in
    pixels, mean text size in pixels (the shorter side of each line's box), mean confidence 0..1."""

    text: str
    kind: str
    box: tuple[float, float, float, float]
    line_height: float
    confidence: float


def reading_order(lines: Objects) -> Objects:
    """Lines sorted top to bottom, and left to right within a row (lines whose y-ranges overlap by
    more than half the shorter height share a row)."""
    rows: list[list[Obj]] = []
    for line in sorted(lines, key=lambda o: o.center[1]):
        row = rows[-1] if rows else None
        if row and _y_overlap(row[-1], line) > 0.5 * min(_height(row[-1]), _height(line)):
            row.append(line)
        else:
            rows.append([line])
    return lines.with_items(o for row in rows for o in sorted(row, key=lambda o: o.box[0]))


def blocks(lines: Objects) -> list[list[Obj]]:
    """Lines grouped into blocks of stacked lines (x-ranges overlap, small vertical gap, text of about
    the same size), each top down."""
    groups: list[list[Obj]] = []
    for line in sorted(lines, key=lambda o: o.box[1]):
        for group in groups:
            last = group[-1]
            gap = line.box[1] - last.box[3]
            sizes = sorted((_size(last), _size(line)))
            if (_x_overlap(last, line) > 0 and gap < BLOCK_GAP * max(_height(last), _height(line))
                    and sizes[1] < BLOCK_SIZE_RATIO * max(sizes[0], 1.0)):
                group.append(line)
                break
        else:
            groups.append([line])
    return groups


def candidates(lines: Objects) -> list[Candidate]:
    """Every block of two or more lines, every line, and every word of a line of several words."""
    found: list[Candidate] = []
    for group in blocks(lines):
        if len(group) > 1:
            found.append(_candidate(group, "block"))
    for line in reading_order(lines):
        found.append(_candidate([line], "line"))
        words = line.text.split()
        if len(words) > 1:
            for word in words:
                if _WORD.search(word) or any(c.isdigit() for c in word):
                    found.append(Candidate(word, "word", line.box, _size(line), line.score))
    unique: dict[str, Candidate] = {}
    for candidate in found:  # the first spelling of a text wins (blocks before lines before words)
        unique.setdefault(candidate.text.lower(), candidate)
    return list(unique.values())


def prior(candidate: Candidate, question: str, image_size: tuple[int, int], tallest: float) -> float:
    """Log-weight of ``candidate`` before any language model: size, confidence, kind and position."""
    width, height = image_size
    score = SIZE_WEIGHT * math.log(max(candidate.line_height, 1.0) / max(tallest, 1.0))
    score += math.log(max(candidate.confidence, 1e-3)) + KIND_PRIOR[candidate.kind]
    words = set(re.findall(r"[a-z]+", question.lower()))
    centre = ((candidate.box[0] + candidate.box[2]) / 2 / max(width, 1),
              (candidate.box[1] + candidate.box[3]) / 2 / max(height, 1))
    for word, (axis, sign) in POSITIONS.items():
        if word in words:
            score += POSITION_WEIGHT * sign * (centre[axis] - 0.5)
    return score + shape(candidate.text, words)


def shape(text: str, words: set[str]) -> float:
    """Log-weight for text shaped like the answer the question's ``words`` ask for: a time ("4:33") for
    a time or clock, digits for a number, price or year, letters (not only digits) for a word or name."""
    if words & TIME_WORDS:
        return SHAPE_WEIGHT if _TIME.search(text) else 0.0
    if words & NUMBER_WORDS:
        return SHAPE_WEIGHT if any(c.isdigit() for c in text) else 0.0
    if words & NAME_WORDS:
        return 0.0 if _WORD.search(text) else -SHAPE_WEIGHT
    return 0.0


def _candidate(group: list[Obj], kind: str) -> Candidate:
    box = (min(o.box[0] for o in group), min(o.box[1] for o in group), max(o.box[2] for o in group),
           max(o.box[3] for o in group))
    return Candidate(" ".join(o.text for o in group), kind, box, sum(map(_size, group)) / len(group),
                     sum(o.score for o in group) / len(group))


def _height(obj: Obj) -> float:
    return obj.box[3] - obj.box[1]


def _size(obj: Obj) -> float:
    """The text's size in pixels: the shorter side of its box (vertical text stands on its end)."""
    return min(obj.box[2] - obj.box[0], obj.box[3] - obj.box[1])


def _x_overlap(a: Obj, b: Obj) -> float:
    return min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])


def _y_overlap(a: Obj, b: Obj) -> float:
    return min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
