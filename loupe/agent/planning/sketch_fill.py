"""Fill a sketch's holes from a question: every typed way the question's words can fill it, bounded.

``fillings(sketch, facts, two_images)`` yields ``Filled`` candidates: the sketch's ``Program`` with every
hole filled (``loupe.programs.ir.fill``: it is checked as it is, never rendered and parsed again), the typed
values used (the candidate's identity for the program cache) and what of the question it leaves unused
(for the ranker). Object holes take the question's object mentions in the order it
names them and only with the same polarity ("no cat" fills only a negated hole); numbers and comparison
operators are taken in order; a two-image sketch whose instruction names the images in the other order
has LEFT and RIGHT swapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import combinations, product

from loupe.agent.planning.query_facts import QueryFacts
from loupe.agent.planning.reading import COLOURS, lexicon
from loupe.agent.planning.sketches import Sketch
from loupe.programs.ir import Arg, Hole, Program, Ref, fill
from loupe.tools.where import DEFAULT_SIDES

MAX_PER_SKETCH = 12
_COMPARISONS = (">", "<", ">=", "<=", "==", "!=")
_EMOJI_CUES = (("heart", "smiling_face_with_heart-eyes"), ("sunglass", "smiling_face_with_sunglasses"),
               ("cool", "smiling_face_with_sunglasses"), ("laugh", "face_with_tears_of_joy"),
               ("joy", "face_with_tears_of_joy"), ("wink", "winking_face"), ("smil", "grinning_face"),
               ("happy", "grinning_face"), ("sad", "crying_face"), ("cry", "crying_face"), ("angry", "angry_face"),
               ("robot", "robot"), ("skull", "skull"), ("ghost", "ghost"), ("alien", "alien"),
               ("clown", "clown_face"), ("star", "star"), ("cat", "cat_face"), ("dog", "dog_face"),
               ("pig", "pig_face"), ("monkey", "monkey_face"), ("poop", "pile_of_poo"))
_PROMPT = re.compile(r"\b(with|into|for|by|to)\s+(?=((?:an?|the|some)\s+)?([^.?!]+?)[.?!]*$)", re.IGNORECASE)
_STRONG_CONNECTORS = ("with", "into", "for")   # 'replace X with Y', 'turn X into Y', 'swap X for Y'


@dataclass(frozen=True)
class Filled:
    """One candidate: ``program`` (the sketch filled), ``values`` (hole kind -> values in hole order),
    ``unused`` (what of the question no hole took: counts by kind) and ``defaults`` (holes left at the
    source program's value because the question gave none)."""

    program: Program
    values: tuple[tuple[str, tuple], ...]
    unused: dict
    defaults: int


def fillings(sketch: Sketch, facts: QueryFacts, two_images: bool):
    """Every filled candidate of ``sketch`` for ``facts`` (at most ``MAX_PER_SKETCH``)."""
    if sketch.two_images != two_images:
        return
    objects = [m for m in facts.mentions if m.kind in ("object", "face")]
    n_objects, n_phrases = sketch.holes("object"), sketch.holes("phrase")
    if max(n_objects, n_phrases) > len(objects):
        return
    if sketch.holes("region") > len(facts.regions) or sketch.numbers > len(facts.numbers):
        return
    if sketch.holes("side") and not _asked_sides(facts):
        return   # a yes/no question about a side of the photo that names none
    object_choices = [c for c in combinations(objects, n_objects)
                      if all(m.negated == neg for m, neg in zip(c, sketch.polarity))]
    if n_objects and not object_choices:
        return
    count = 0
    for chosen in object_choices or [()]:
        rest = [m for m in objects if m not in chosen]
        narrowing = _narrows(sketch)
        if narrowing:  # SELECT narrows what LOC found: its phrase names that object ('black cat' of cats)
            rest = list(chosen)
        for phrases in _phrase_choices(rest, n_phrases, only_modified=narrowing):
            yield _fill(sketch, facts, chosen, phrases, two_images)
            count += 1
            if count >= MAX_PER_SKETCH:
                return


def _narrows(sketch: Sketch) -> bool:
    """Whether a SELECT of the sketch picks among the objects a LOC step of it found."""
    located = {step.output for step in sketch.steps if step.module == "LOC"}
    return any(step.module == "SELECT" and isinstance(step.arg("object"), Ref)
               and step.arg("object").name in located for step in sketch.steps)


def _phrase_choices(mentions, holes: int, only_modified: bool = False):
    """The phrase holes' fillings: each mention's phrase with its modifiers, or its bare text; with
    ``only_modified`` (a SELECT narrowing a located object) only phrases that say more than the object's name
    ('black cat'): selecting 'cat' among cats narrows nothing."""
    if holes == 0:
        return [()]
    options = []
    for chosen in combinations(mentions, holes):
        if only_modified:
            variants = [(m.named_phrase,) if m.phrase and m.phrase != m.text else () for m in chosen]
        else:
            variants = [tuple(dict.fromkeys([m.named_phrase, m.named])) for m in chosen]
        options += [tuple(zip(chosen, texts)) for texts in product(*variants)]
    return options


def _fill(sketch: Sketch, facts: QueryFacts, chosen, phrases, two_images: bool) -> Filled:
    comparisons = [op for op in facts.ops if op in _COMPARISONS]
    ops = list(comparisons[:len(sketch.ops)]) + list(sketch.ops[len(comparisons):])
    defaults = max(0, len(sketch.ops) - len(comparisons))
    values = {"object": tuple(m.name for m in chosen), "region": facts.regions[:sketch.holes("region")],
              "phrase": tuple(text for _, text in phrases),
              "category": tuple(_category(m, text) for m, text in phrases[:1]),
              "question": (_question(facts, chosen),), "number": facts.numbers[:sketch.numbers],
              "op": tuple(ops), "sides": (_sides(facts),) if sketch.holes("sides") else (),
              "side": _asked_sides(facts)[:1]}
    emoji = _emoji(facts) if sketch.holes("emoji") else None
    prompt = _prompt(facts) if sketch.holes("prompt") else None
    invented = 0

    def value_of(hole: Hole):
        nonlocal invented
        if hole.kind == "emoji":
            invented += 3 * (emoji is None)  # an emoji the request never named is a whole invented edit
            return emoji or (hole.default if hole.default is not None else "grinning_face")
        if hole.kind == "prompt":
            invented += prompt is None
            return prompt or "nothing"
        taken = values[hole.kind]
        return taken[hole.n] if hole.n < len(taken) else None

    program = fill(sketch.program, value_of)
    defaults += invented
    if two_images and facts.sides[:1] and sketch.sides[:1] and facts.sides[0] != sketch.sides[0]:
        program = _swap_sides(program)
    used_positions = {i for m, text in phrases for i in range(m.start, m.start + _span(m, text))} | {
        i for m in chosen for i in range(m.start, m.end)}
    modifiers = {i for m in chosen for i in range(m.start, m.start + len((m.phrase or m.text).split()))}
    left = [m for m in facts.mentions if m.kind == "object" and m.start not in used_positions
            and not (prompt and m.text in prompt)]
    unused = {"objects": sum(1.0 if m.known and m.start not in modifiers and not facts.is_location(m) else 0.3
                             for m in left),
              "faces": 0 if "FACEDET" in sketch.modules else
              sum(1 for m in facts.mentions if m.kind == "face" and m.start not in used_positions),
              "numbers": len(facts.numbers) - sketch.numbers,
              "comparisons": max(0, len(comparisons) - len(sketch.ops)),
              "regions": len(facts.regions) - sketch.holes("region") - _sides_used(values["sides"], facts)}
    typed = tuple((k, v) for k, v in values.items() if v and (k != "question" or {"VQA", "PICK_TEXT"} & set(sketch.modules)))
    unused["faces_as_objects"] = sum(1 for m in chosen if m.kind == "face")
    extra = tuple((kind, (value,)) for kind, value in (("emoji", emoji), ("prompt", prompt)) if value)
    return Filled(program, typed + extra, unused, defaults)


def _span(mention, text: str) -> int:
    """How many of the question's words a phrase hole's ``text`` stands for (the phrase, or the mention alone)."""
    return len((mention.phrase or mention.text).split()) if text == mention.named_phrase else mention.end - mention.start


def _category(mention, text: str):
    return mention.name if mention.known and mention.kind == "object" and text != mention.name else None


def _question(facts: QueryFacts, chosen=()) -> str:
    """The question a VQA or PICK_TEXT step asks: the request's main clause; for a choice of colours ('is the
    car red or white?') the colour question it is ('what color is the car?'), whose answer is then one of them."""
    reading = facts.extra.get("reading")
    if reading is not None and reading.answer == "choice" and chosen and \
            all(c in COLOURS for c in reading.choices):
        return f"what color is the {chosen[0].name if chosen[0].kind == 'object' else chosen[0].text}?"
    text = " ".join(facts.query.split()).strip()
    for mention in facts.mentions:   # the class its tools know, in the user's place: 'the meter' -> 'the parking meter'
        if mention.kind == "object" and mention.name not in mention.text and " " not in mention.text \
                and not facts.is_location(mention):
            text = re.sub(rf"\b{re.escape(mention.text)}\b", mention.name, text, count=1)
    return text if text.endswith("?") else text.rstrip(".!") + "?"




def _asked_sides(facts: QueryFacts) -> list[str]:
    """The side words of the question, in order, once each."""
    return list(dict.fromkeys(w for w in facts.words if w in lexicon()["photo_sides"]))


def _sides(facts: QueryFacts) -> str:
    """The sides a WHERE step chooses among: the side words of the question on the axis of the choice it offers
    ('on the left, in the middle or on the right?'; a side of the other axis is left unused), else all its side
    words ('at the top or at the bottom'); one side asked about with its opposite ('is it on the left?': left or
    right), the middle with left and right; else left, middle and right ('which side is it on?')."""
    reading = facts.extra.get("reading")
    sides = lexicon()["photo_sides"]
    said = _asked_sides(facts)
    axes = {sides[c] for c in (reading.choices if reading is not None else ()) if c in sides} - {""}
    if axes:
        said = [w for w in said if sides[w] in axes | {""}]
    if len(said) == 1:
        opposite = lexicon()["opposite_sides"].get(said[0])
        return f"{said[0]},{opposite}" if opposite else DEFAULT_SIDES.replace("middle", said[0])
    return ",".join(said) if len(said) >= 2 else DEFAULT_SIDES


def _sides_used(sides: tuple[str, ...], facts: QueryFacts) -> int:
    """How many of the question's regions (LEFT, TOP, ...) a WHERE step's sides take."""
    offered = {{"UPPER": "TOP", "LOWER": "BOTTOM"}.get(w, w) for w in ",".join(sides).upper().split(",")}
    return sum(1 for region in facts.regions if region in offered)


def _emoji(facts: QueryFacts) -> str | None:
    words = facts.words
    for index, word in enumerate(words):
        if word.startswith(("emoji", "smiley", "sticker", "face")) or word in ("smiley", "smileys"):
            window = words[max(0, index - 3):index + 1]
            for cue, name in _EMOJI_CUES:
                if any(w.startswith(cue) for w in window):
                    return name
    instruments = lexicon()["instrument_nouns"]
    return "grinning_face" if any(w in instruments for w in words) else None   # named, though not which one


def _prompt(facts: QueryFacts) -> str | None:
    """What an edit paints: for a recolouring, the object in its new colour ("Make the truck blue" -> 'a blue
    truck'); else the words after the last 'with', 'into' or 'for' (else the last 'by' or 'to'), with an
    article: "Swap the bike by the dog for a scooter" -> 'a scooter'."""
    if facts.recolour:
        return "a {} {}".format(*facts.recolour)
    matches = list(_PROMPT.finditer(facts.query.strip()))
    strong = [m for m in matches if m.group(1).lower() in _STRONG_CONNECTORS]
    if not matches:
        return None
    match = (strong or matches)[-1]
    article, rest = match.group(2), match.group(3)
    return ((article or "a ").strip() + " " + rest.strip()).strip()


def _swap_sides(program: Program) -> Program:
    swap = {"LEFT": "RIGHT", "RIGHT": "LEFT"}

    def visit(value):
        if isinstance(value, Ref) and value.name in swap:
            return Ref(swap[value.name], value.span)
        if isinstance(value, tuple):
            return tuple(visit(v) for v in value)
        return value

    steps = tuple(replace(step, args=tuple(Arg(a.name, visit(a.value), a.span, a.value_span) for a in step.args))
                  for step in program.steps)
    return Program(steps, program.source, program.files)
