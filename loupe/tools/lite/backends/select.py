"""SELECT on the lite tier: keeps the objects whose label (or another detector guess) means the query's
noun (COCO names with synonyms and plurals, 'face', 'object'), judged by colour when the query has a
colour word ('red bus': the object's own pixels, its mask when it has one; 'man in the yellow shirt':
that part of the person's mask), by an object they have ('woman with the blue bag': a blue handbag
overlapping her), and picked by position ('white car on the left', 'largest horse'). Several queries
with commas: 'cup,plate'. The phrases are read by ``loupe.tools.lite.phrases``.

``category`` narrows only when it names a COCO class and the query has no noun of its own
(``query='red', category='car'``). Other descriptions ('man in a hat', 'glasses') need CLIP (GPU tier).
"""

from __future__ import annotations

from dataclasses import replace

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.imageops import check_objects_fit
from loupe.tools.lite.backends.base import LiteBackend, each
from loupe.tools.lite.colors import color_shares, dominant_color, object_region, person_part
from loupe.tools.lite.phrases import Phrase, parse_phrase, parse_phrases  # noqa: F401  (Phrase: re-exported)
from loupe.tools.vocabulary import coco_class, labelled_as, means_face, normalize
from loupe.tools.install import pip_extra

CLIP_HINT = f"the GPU tier's CLIP backend judges any description: {pip_extra('gpu')}"
# position word -> the key whose largest value wins
POSITIONS = {"left": lambda o: -o.center[0], "leftmost": lambda o: -o.center[0],
             "right": lambda o: o.center[0], "rightmost": lambda o: o.center[0],
             "top": lambda o: -o.center[1], "topmost": lambda o: -o.center[1], "upper": lambda o: -o.center[1],
             "bottom": lambda o: o.center[1], "lower": lambda o: o.center[1],
             "largest": lambda o: o.area, "biggest": lambda o: o.area, "smallest": lambda o: -o.area}
MIN_ACCESSORY_OVERLAP = 0.5  # share of an accessory's box inside the person's (grown) box


def unsupported(tool: str, text: str, what: str = "query") -> ToolError:
    return ToolError(f"{tool}: the lite tier cannot judge the {what} {text!r}: it understands COCO "
                     f"object names (person, car, dog, ...), 'face', colour and position words ('red bus', "
                     f"'left dog'), clothing colours ('man in the yellow shirt') and objects people have "
                     f"('woman with the blue bag'), and cannot tell two words for one COCO class apart "
                     f"('man' vs 'woman'); " + CLIP_HINT)


def as_noun(obj: Obj, noun: str) -> Obj | None:
    """``obj`` if its name (category, else text, else label or another detector guess) means ``noun`` (a
    COCO class, 'face', 'all' or ''), relabelled when a guess matched; else None."""
    if noun in ("", "all"):
        return obj
    name = obj.name
    if noun == "face":
        return obj if means_face(name) else None
    if coco_class(name) == noun or normalize(name) == noun:
        return obj
    return labelled_as(obj, noun) if not (obj.category or obj.text) else None


def color_region(image: Image, obj: Obj, part: str | None):
    """Boolean ``[H, W]`` pixels whose colour describes ``obj``: its region, or that part of a person."""
    return object_region(image, obj) if part is None else person_part(image, obj, part)


def color_score(image: Image, obj: Obj, color: str | None, part: str | None = None) -> float:
    """0..1 share of ``color`` in the object or its ``part`` (1 when no colour is asked)."""
    return 1.0 if color is None else color_shares(image, color_region(image, obj, part))[color]


def affordance(args) -> float:
    """1 when every comma-separated query is a phrase ``parse_phrase`` reads ('man in a yellow shirt'),
    0 otherwise ('man in a hat'), 0.5 when the query is not known statically."""
    query = args.get("query")
    if not isinstance(query, str):
        return 0.5
    return 1.0 if parse_phrases(query) else 0.0


def has_color(image: Image, obj: Obj, color: str, part: str | None) -> bool:
    """Whether ``color`` is the dominant colour of ``obj`` (of that ``part`` of a person)."""
    return dominant_color(image, color_region(image, obj, part)) == color


def _overlap(inner: Obj, outer: Obj) -> float:
    """Share of ``inner``'s box inside ``outer``'s box grown by 10% per side."""
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = inner.box, outer.box
    dx, dy = 0.1 * (bx2 - bx1), 0.1 * (by2 - by1)
    width = max(0.0, min(ax2, bx2 + dx) - max(ax1, bx1 - dx))
    height = max(0.0, min(ay2, by2 + dy) - max(ay1, by1 - dy))
    return width * height / max(inner.area, 1e-9)


Indexed = list[tuple[int, Obj]]  # (index in the candidate objects, the object as selected)


def with_accessory(image: Image, objects: Objects, kept: Indexed, accessory: Phrase) -> Indexed:
    """The objects of ``kept`` that an object matching ``accessory`` overlaps (each accessory goes to
    one owner: the kept object holding most of it)."""
    owners: set[int] = set()
    for index, item in select_indexed(image, objects, accessory):
        overlaps = [(_overlap(item, o), i) for i, o in kept if i != index]
        best = max(overlaps, default=(0.0, -1))
        if best[0] >= MIN_ACCESSORY_OVERLAP:
            owners.add(best[1])
    return [(i, o) for i, o in kept if i in owners]


def select_indexed(image: Image, objects: Objects, phrase: Phrase) -> Indexed:
    """The objects ``phrase`` describes with their indices, in their original order."""
    kept = [(i, o) for i, o in ((i, as_noun(o, phrase.noun)) for i, o in enumerate(objects)) if o is not None]
    if phrase.color:
        kept = [(i, o) for i, o in kept if has_color(image, o, phrase.color, phrase.part)]
    if phrase.accessory:
        kept = with_accessory(image, objects, kept, phrase.accessory)
    if phrase.position and kept:
        kept = [max(kept, key=lambda pair: POSITIONS[phrase.position](pair[1]))]
    elif phrase.one and len(kept) > 1:  # the most likely: detector score x share of the colour asked
        kept = [max(kept, key=lambda pair: pair[1].score * color_score(image, pair[1], phrase.color, phrase.part))]
    return kept


def select(image: Image, objects: Objects, phrase: Phrase) -> list[Obj]:
    """The objects ``phrase`` describes, in their original order."""
    return [o for _, o in select_indexed(image, objects, phrase)]


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
            phrases = [p if p.noun else replace(p, noun=category.noun) for p in phrases]
        chosen: dict[int, Obj] = {}
        for phrase in phrases:
            for index, obj in select_indexed(image, objects, phrase):
                chosen.setdefault(index, obj)
        return objects.with_items(chosen[i] for i in sorted(chosen))
