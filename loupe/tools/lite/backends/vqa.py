"""VQA on the lite tier: a few kinds of question answered by composing the detector, faces and OCR.

The question is normalised (lower case, no punctuation or articles, "what's" -> "what is", "colour" ->
"color") and matched against ``PATTERNS``, first match wins:

===========  ======================================================  ===================================
kind         examples                                                answer
===========  ======================================================  ===================================
count        how many horses are there? how many faces are in the photo?  digits: detections ('faces': faces)
exists       is there a dog? are there any cars? do you see a bike?  yes/no; 'a dog and a bicycle' needs
             is there a red car? does the image show a cat?          both, 'a dog or a cat' either
color        what color is the bus? what is the colour of the cup?   dominant colour of the largest match
                                                                     (of the whole image when none: a crop)
text         what is written on the poster? what is written on the page?    OCR lines in reading order, or
             what text is on it? read the label                      "no text"
===========  ======================================================  ===================================

Things named must be COCO classes (synonyms, plurals), 'face'/'faces', with an optional colour word.
Anything else needs the GPU tier's VQA model: ``affordance`` is 0 and the backend raises ``ToolError``.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.lite.backends.base import LiteBackend, each
from loupe.tools.lite.backends.select import Phrase, parse_phrase, select
from loupe.tools.lite.colors import dominant_color, object_region
from loupe.tools.vocabulary import normalize
from loupe.tools.install import pip_extra

GPU_HINT = f"the GPU tier's VQA model (BLIP) answers open questions: {pip_extra('gpu')}"
_IN_IMAGE = r"(?: (?:in|on) (?:this )?(?:image|picture|photo|scene))?"
_THINGS = r"(?P<things>[a-z0-9' ]+?)"
PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("count", rf"^how many {_THINGS}(?: (?:are|is) there| there are| (?:can|do) you see| can be seen"
              rf"| (?:are|is) (?:visible|shown|present|pictured))?{_IN_IMAGE}$"),
    ("exists", rf"^(?:is|are) there {_THINGS}{_IN_IMAGE}$"),
    ("exists", rf"^(?:do|can) you see {_THINGS}{_IN_IMAGE}$"),
    ("exists", rf"^(?:does|do) (?:this )?(?:image|picture|photo|scene) (?:show|contain|have|include) {_THINGS}$"),
    ("color", rf"^what color (?:is|are) {_THINGS}{_IN_IMAGE}$"),
    ("color", rf"^what is color of {_THINGS}{_IN_IMAGE}$"),
    ("text", r"^what (?:does|do) [a-z0-9' ]+ say$"),
    ("text", r"^what (?:is|are) (?:written|printed)(?: [a-z0-9' ]+)?$"),
    ("text", r"^what (?:text|words?|letters)(?: [a-z0-9' ]+)?$"),
    ("text", r"^(?:read|transcribe)(?: [a-z0-9' ]+)?$"),
))


@dataclass(frozen=True)
class Question:
    """A question the lite tier can answer: its ``kind`` (see ``PATTERNS``), the ``phrases`` it names
    and whether all of them must be present (``need_all``, for 'and') or any (for 'or')."""

    kind: str
    phrases: tuple[Phrase, ...] = ()
    need_all: bool = True


def clean(question: str) -> str:
    """Normalised question text: ``"What's the colour of the bus?"`` -> ``"what is color of bus"``."""
    text = re.sub(r"\bwhat's\b", "what is", str(question).lower()).replace("colour", "color")
    return normalize(text)


def parse_question(question: str) -> Question | None:
    """The lite reading of ``question``, or None when it is beyond the lite tier."""
    text = clean(question)
    for kind, pattern in PATTERNS:
        match = pattern.match(text)
        if match:
            return _with_things(kind, match.groupdict().get("things"))
    return None


def _with_things(kind: str, things: str | None) -> Question | None:
    if things is None:
        return Question(kind)
    need_all = " or " not in f" {things} "
    parts = re.split(r" (?:and|or) ", things)
    phrases = tuple(parse_phrase(p) for p in parts)
    if not all(phrases) or any(p.noun == "" or p.position for p in phrases):
        return None
    if kind != "exists" and len(phrases) != 1:
        return None
    return Question(kind, phrases, need_all)


def affordance(args) -> float:
    """1 for questions matching ``PATTERNS`` about things the lite tier knows, else 0; 0.5 when unknown."""
    question = args.get("question")
    if not isinstance(question, str):
        return 0.5
    return 1.0 if parse_question(question) else 0.0


def unsupported(question: str) -> ToolError:
    return ToolError(f"VQA: the lite tier cannot answer {question!r}; it answers 'how many X', 'is there "
                     f"a X (and a Y)', 'what color is the X' (X: a COCO object or face) and 'what does it "
                     f"say'; rephrase it that way, or use {GPU_HINT}")


def reading_order(lines: Objects) -> list[Obj]:
    """Text lines top to bottom, left to right within a row (lines whose centres are within half a line
    height of each other share a row)."""
    ordered = sorted(lines, key=lambda o: o.center[1])
    rows: list[list[Obj]] = []
    for line in ordered:
        height = max(line.box[3] - line.box[1], 1.0)
        if rows and abs(line.center[1] - rows[-1][0].center[1]) < height / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda o: o.box[0])]


@dataclass(frozen=True)
class Seen:
    """What the lite models found in one image (``None`` where not needed)."""

    image: Image
    objects: Objects | None
    faces: Objects | None
    text: Objects | None

    def matches(self, phrase: Phrase) -> list[Obj]:
        found = self.faces if phrase.noun == "face" else self.objects
        return select(self.image, found, phrase)


def answer(question: Question, seen: Seen) -> str:
    """The short lower-case answer to a parsed question."""
    if question.kind == "text":
        words = " ".join(line.text for line in reading_order(seen.text))
        return words.lower() if words else "no text"
    if question.kind == "count":
        return str(len(seen.matches(question.phrases[0])))
    if question.kind == "exists":
        present = [bool(seen.matches(p)) for p in question.phrases]
        return "yes" if (all(present) if question.need_all else any(present)) else "no"
    found = seen.matches(question.phrases[0])
    largest = max(found, key=lambda o: o.area, default=None)
    region = None if largest is None else object_region(seen.image, largest)
    return dominant_color(seen.image, region)


class LiteVqa(LiteBackend):
    """Runs each model once per batch, only on the images whose questions need it."""

    def run_batch(self, calls):
        parsed = [parse_question(c["question"]) for c in calls]
        seen = self._look([c["image"] for c in calls], parsed)

        def reply(index_call):
            index, call = index_call
            if parsed[index] is None:
                raise unsupported(call["question"])
            return answer(parsed[index], seen[index])

        return each(list(enumerate(calls)), reply)

    def _look(self, images: list[Image], parsed: list[Question | None]) -> list[Seen]:
        def wanted(test) -> list[Image]:
            return [image for image, q in zip(images, parsed) if q is not None and test(q)]

        need = {"objects": wanted(lambda q: any(p.noun != "face" for p in q.phrases)),
                "faces": wanted(lambda q: any(p.noun == "face" for p in q.phrases)),
                "text": wanted(lambda q: q.kind == "text")}
        results = {kind: dict(zip(map(id, chosen), getattr(self.vision, kind)(chosen)))
                   for kind, chosen in need.items()}
        return [Seen(image, *(results[kind].get(id(image)) for kind in need)) for image in images]
