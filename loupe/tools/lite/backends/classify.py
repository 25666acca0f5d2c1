"""CLASSIFY on the lite tier: a category matches an object by its label (COCO names, synonyms, 'face')
and/or its colour ('red car'). VisProg's semantics: for each category, the best-matching object is
kept, with ``Obj.category`` set to that category; categories no object matches keep nothing.

Categories the lite tier cannot tell apart need CLIP (GPU tier): knowledge names ('Ryan Gosling'),
free descriptions ('man with a hat') and distinct words for one COCO class ('man' vs 'woman').
"""

from __future__ import annotations

from loupe.programs.values import Image, Obj, Objects
from loupe.tools.imageops import check_objects_fit
from loupe.tools.lite.backends.base import LiteBackend, each
from loupe.tools.lite.backends.select import Phrase, as_noun, color_score, parse_phrase, unsupported


def category_list(categories) -> list[str]:
    """The categories as a list of names (a comma-separated string is split)."""
    if isinstance(categories, str):
        categories = categories.split(",")
    return [str(c).strip() for c in categories if str(c).strip()]


def parse_categories(categories) -> list[Phrase] | None:
    """One phrase per category; None when one is beyond the lite tier or two mean the same thing."""
    phrases = [parse_phrase(c) for c in category_list(categories)]
    if not phrases or not all(phrases):
        return None
    meanings = [(p.noun, p.color) for p in phrases]
    return phrases if len(set(meanings)) == len(meanings) else None


def affordance(args) -> float:
    """1 when every category is a COCO name/'face'/colour and no two mean the same, else 0; 0.5 when the
    categories are not known statically."""
    categories = args.get("categories")
    if not isinstance(categories, (list, tuple, str)):
        return 0.5
    return 1.0 if parse_categories(categories) else 0.0


def match_score(image: Image, obj: Obj, phrase: Phrase) -> float:
    """0..1: how well ``obj`` fits ``phrase`` (0 when the noun differs; else its colour share or 1)."""
    return color_score(image, obj, phrase.color, phrase.part) if as_noun(obj, phrase.noun) is not None else 0.0


def classify(image: Image, objects: Objects, categories, phrases: list[Phrase]) -> Objects:
    """For each category, the best-scoring object (ties: the detector's score), labelled with it."""
    kept = []
    for category, phrase in zip(categories, phrases):
        scored = [(match_score(image, o, phrase), o.score, i) for i, o in enumerate(objects)]
        best = max(scored, default=(0.0, 0.0, -1))
        if best[0] > 0:
            kept.append(objects[best[2]].evolve(category=category))
    return objects.with_items(kept)


class LiteClassifier(LiteBackend):
    """Label and colour matching; needs no model beyond the objects it is given."""

    def run_batch(self, calls):
        return each(calls, self._classify)

    @staticmethod
    def _classify(call) -> Objects:
        image, objects, categories = call["image"], call["object"], call["categories"]
        check_objects_fit(image, objects, "CLASSIFY")
        categories = category_list(categories)
        phrases = parse_categories(categories)
        if phrases is None:
            raise unsupported("CLASSIFY", ", ".join(map(str, categories)), "categories")
        return classify(image, objects, categories, phrases)
