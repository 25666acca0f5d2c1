"""Descriptions the lite tier can judge without CLIP: a COCO noun with colour, clothing, accessory and
position words.

    "dog"                              -> Phrase("dog")
    "the white car on the left"        -> Phrase("car", "white", "left")
    "the man in the yellow shirt"      -> Phrase("person", "yellow", part="upper")
    "the woman with the blue bag"      -> Phrase("person", accessory=Phrase("handbag", "blue"))
    "the skier wearing red trousers"   -> Phrase("person", "red", part="lower")
    "the man in a hat"                 -> None (a garment with no colour cannot be judged from pixels)

Clothing words name a part of a person (``PARTS``): its colour is judged on that band of the person's
mask. An accessory is another COCO object (with its own colour) that overlaps the person. Words for one
COCO class ('man', 'woman') are not told apart. Anything else gives None: the GPU tier's CLIP judges it.
"""

from __future__ import annotations

from dataclasses import dataclass

from loupe.tools.lite.colors import color_word, split_color
from loupe.tools.lite.vocabulary import coco_class, means_all, means_face, normalize, singular

POSITIONS = ("left", "leftmost", "right", "rightmost", "top", "topmost", "upper", "bottom", "lower",
             "largest", "biggest", "smallest")
RELATIONS = frozenset({"in", "wearing", "with", "holding", "carrying", "dressed"})
# clothing word -> the part of a person it covers (see colors.person_part)
GARMENTS = {**{w: "upper" for w in ("shirt", "t shirt", "tshirt", "tee", "top", "blouse", "jacket", "coat",
                                    "sweater", "jumper", "hoodie", "sweatshirt", "jersey", "vest", "cardigan",
                                    "polo", "tank top", "anorak", "parka", "blazer")},
            **{w: "lower" for w in ("pants", "trousers", "jeans", "shorts", "skirt", "leggings")},
            **{w: "body" for w in ("dress", "outfit", "clothes", "clothing", "suit", "uniform", "wetsuit",
                                   "gown", "robe", "")},
            **{w: "head" for w in ("hat", "cap", "helmet", "beanie", "hair")}}
_BEFORE_POSITION = frozenset({"on", "at", "to", "in", "far", "most", "of"})
_AFTER_POSITION = frozenset({"side", "hand", "most", "one", "of", "picture", "photo", "image", "frame"})


@dataclass(frozen=True)
class Phrase:
    """A lite-readable description. ``noun``: a COCO class, 'face', 'all' or '' (any); ``color``: a basic
    colour name or None, judged on ``part`` of the object ('upper', 'lower', 'body', 'head'; None: the
    whole object); ``position``: one of ``POSITIONS`` or None; ``accessory``: a phrase for an object the
    described one must overlap ('with the blue bag'), or None; ``one``: a singular noun with clothing or
    an accessory ('the man in the blue shirt'): only the best match is meant."""

    noun: str
    color: str | None = None
    position: str | None = None
    part: str | None = None
    accessory: "Phrase | None" = None
    one: bool = False


def _take_position(words: list[str]) -> tuple[str | None, list[str]]:
    """The position word and the words left once it and its fillers ('on the ... side') are removed."""
    index = next((i for i, w in enumerate(words) if w in POSITIONS  # 'a red top' is a garment
                  and not (i and (color_word(words[i - 1]) or words[i - 1] == "tank"))), None)
    if index is None:
        return None, words
    start, end = index, index + 1
    while start > 0 and words[start - 1] in _BEFORE_POSITION:
        start -= 1
    while end < len(words) and words[end] in _AFTER_POSITION:
        end += 1
    return words[index], words[:start] + words[end:]


def _noun(words: list[str]) -> str | None:
    """The COCO class (or 'face' / 'all' / '') the words name, or None."""
    text = " ".join(words)
    if not text:
        return ""
    if means_face(text):
        return "face"
    if means_all(text):
        return "all"
    found = coco_class(text)
    if found is None or len(words) > len(found.split()) + 1:  # 'man in a hat' is not just 'person'
        return None
    return found


def _attribute(noun: str, words: list[str]) -> tuple[str | None, str | None, Phrase | None] | None:
    """``(color, part, accessory)`` for the words after a relation word, or None when not judgeable."""
    color, rest = split_color(" ".join(words))
    rest = " ".join(w for w in rest.split() if w not in ("in", "a", "pair", "of"))
    if rest in GARMENTS:
        if color is None or noun != "person":  # a colourless garment, or clothes on a non-person
            return None
        return color, GARMENTS[rest], None
    other = _noun(rest.split())
    if not other or other in ("all", "face"):
        return None
    return None, None, Phrase(other, color)


def parse_phrase(text: str) -> Phrase | None:
    """``"the man in the yellow shirt"`` -> ``Phrase("person", "yellow", part="upper")``; None when a
    word is beyond the lite tier."""
    position, words = _take_position(normalize(str(text)).split())
    relation = next((i for i, w in enumerate(words) if w in RELATIONS), None)
    head, tail = (words, []) if relation is None else (words[:relation], words[relation + 1:])
    color, rest = split_color(" ".join(head))
    noun = _noun(rest.split())
    if noun is None or (relation is not None and not tail):
        return None
    if not noun and not color and not position and relation is None:
        return None
    if relation is None:
        return Phrase(noun, color, position)
    attribute = _attribute(noun, tail)
    if attribute is None or (color and attribute[0]):  # 'the red man in a blue shirt'
        return None
    part_color, part, accessory = attribute
    one = all(singular(w) == w for w in rest.split()) and noun not in ("", "all")
    return Phrase(noun, color or part_color, position, part, accessory, one)


def parse_phrases(text: str) -> list[Phrase] | None:
    """Comma-separated phrases; None when any is beyond the lite tier."""
    parts = [p for p in (part.strip() for part in str(text).split(",")) if p]
    phrases = [parse_phrase(p) for p in parts]
    return phrases if phrases and all(phrases) else None
