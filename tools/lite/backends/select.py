"""SELECT on the lite tier: keeps the objects whose label means the query (COCO names with synonyms and
plurals, 'face', 'object'), judged by colour when the query has a colour word ('red bus'), and picked
by position when it has one ('left dog', 'largest horse'). Several queries with commas: 'cup,plate'.

``category`` narrows only when it names a COCO class and the query has no noun of its own
(``query='red', category='car'``). Other descriptions ('man in a hat', 'glasses') need CLIP (GPU tier).
"""

from __future__ import annotations

from dataclasses import dataclass

from programs.errors import ToolError
from programs.values import Image, Obj, Objects
from tools.imageops import check_objects_fit
from tools.lite.backends.base import LiteBackend, each
from tools.lite.colors import color_shares, dominant_color, object_region, split_color
from tools.lite.vocabulary import coco_class, means_all, means_face, normalize

CLIP_HINT = "the GPU tier's CLIP backend judges any description: pip install 'loupe[gpu]'"
# position word -> the key whose largest value wins
POSITIONS = {"left": lambda o: -o.center[0], "leftmost": lambda o: -o.center[0],
             "right": lambda o: o.center[0], "rightmost": lambda o: o.center[0],
             "top": lambda o: -o.center[1], "topmost": lambda o: -o.center[1], "upper": lambda o: -o.center[1],
             "bottom": lambda o: o.center[1], "lower": lambda o: o.center[1],
             "largest": lambda o: o.area, "biggest": lambda o: o.area, "smallest": lambda o: -o.area}
_FILLER = frozenset({"one", "on", "in", "at", "of", "the", "most", "side", "hand"})


@dataclass(frozen=True)
class Phrase:
    """A lite-readable description: ``noun`` (a COCO class, 'face', 'all' or '' = any), ``color``
    (a basic colour name or None) and ``position`` (a key of ``POSITIONS`` or None)."""

    noun: str
    color: str | None = None
    position: str | None = None


def parse_phrase(text: str) -> Phrase | None:
    """``"the red bus"`` -> ``Phrase("bus", "red")``; None when a word is beyond the lite tier."""
    color, rest = split_color(text)
    words = rest.split()
    position = next((w for w in words if w in POSITIONS), None)
    noun = " ".join(w for w in words if w not in POSITIONS and (position is None or w not in _FILLER))
    if not noun:
        return Phrase("", color, position) if (color or position) else None
    if means_face(noun):
        return Phrase("face", color, position)
    if means_all(noun):
        return Phrase("all", color, position)
    found = coco_class(noun)
    if found is None or len(noun.split()) > len(found.split()) + 1:  # 'man in a hat' is not just 'person'
        return None
    return Phrase(found, color, position)


def parse_phrases(text: str) -> list[Phrase] | None:
    """Comma-separated phrases; None when any is beyond the lite tier."""
    parts = [p for p in (part.strip() for part in str(text).split(",")) if p]
    phrases = [parse_phrase(p) for p in parts]
    return phrases if phrases and all(phrases) else None


def unsupported(tool: str, text: str, what: str = "query") -> ToolError:
    return ToolError(f"{tool}: the lite tier cannot judge the {what} {text!r}: it understands COCO "
                     f"object names (person, car, dog, ...), 'face', colour and position words ('red bus', "
                     f"'left dog') and cannot tell two words for one COCO class apart ('man' vs 'woman'); "
                     + CLIP_HINT)


def noun_matches(obj: Obj, noun: str) -> bool:
    """Whether ``obj``'s name (category, else label) means ``noun`` (a COCO class, 'face', 'all' or '')."""
    if noun in ("", "all"):
        return True
    name = obj.name
    if noun == "face":
        return means_face(name)
    return coco_class(name) == noun or normalize(name) == noun


def color_score(image: Image, obj: Obj, color: str | None) -> float:
    """0..1 share of ``color`` in the object (1 when no colour is asked)."""
    return 1.0 if color is None else color_shares(image, object_region(image, obj))[color]


def affordance(args) -> float:
    """1 when every comma-separated query is a COCO name/'face' with optional colour and position words,
    0 otherwise ('man in a hat'), 0.5 when the query is not known statically."""
    query = args.get("query")
    if not isinstance(query, str):
        return 0.5
    return 1.0 if parse_phrases(query) else 0.0


def select(image: Image, objects: Objects, phrase: Phrase) -> list[Obj]:
    """The objects ``phrase`` describes, in their original order."""
    kept = [o for o in objects if noun_matches(o, phrase.noun)]
    if phrase.color:
        kept = [o for o in kept if dominant_color(image, object_region(image, o)) == phrase.color]
    if phrase.position and kept:
        kept = [max(kept, key=POSITIONS[phrase.position])]
    return kept


class LiteSelector(LiteBackend):
    """Label, colour and position matching; needs no model beyond the objects it is given."""

    def run_batch(self, calls):
        return each(calls, self._select)

    @staticmethod
    def _select(call) -> Objects:
        image, objects, query = call["image"], call["object"], call["query"]
        check_objects_fit(image, objects, "SELECT")
        phrases = parse_phrases(query)
        if phrases is None:
            raise unsupported("SELECT", query)
        category = parse_phrase(call.get("category") or "")
        if category and category.noun not in ("", "all"):
            phrases = [p if p.noun else Phrase(category.noun, p.color, p.position) for p in phrases]
        chosen: list[int] = []
        for phrase in phrases:
            chosen += [id(o) for o in select(image, objects, phrase) if id(o) not in chosen]
        return objects.filter(lambda o: id(o) in chosen)
