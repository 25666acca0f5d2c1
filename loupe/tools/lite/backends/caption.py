"""CAPTION on the lite tier: one sentence naming what the detector found, with counts.

``"A photo with 4 horses."``, ``"A photo with 2 bicycles, a car and a dog."``, ``"A photo."`` when
nothing is found. Kinds are ordered by how many were found, then by their best score; at most
``MAX_KINDS`` kinds are named.
"""

from __future__ import annotations

from collections import defaultdict

from loupe.programs.values import Objects
from loupe.tools.lite.backends.base import LiteBackend, each

MAX_KINDS = 5
_PLURALS = {"person": "people", "mouse": "mice", "knife": "knives", "sheep": "sheep", "skis": "skis",
            "scissors": "scissors", "tv": "tvs"}


def plural(name: str) -> str:
    """``"horse"`` -> ``"horses"``, ``"person"`` -> ``"people"``, ``"wine glass"`` -> ``"wine glasses"``."""
    head, _, last = name.rpartition(" ")
    if last in _PLURALS:
        word = _PLURALS[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        word = last + "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        word = last[:-1] + "ies"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def counted(name: str, count: int) -> str:
    """``"a dog"``, ``"an airplane"``, ``"3 horses"``."""
    if count == 1:
        return ("an " if name[0] in "aeiou" else "a ") + name
    return f"{count} {plural(name)}"


def listed(parts: list[str]) -> str:
    """``"a, b and c"``."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def describe(objects: Objects) -> str:
    """The caption sentence for the objects found in one image."""
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, float] = defaultdict(float)
    for obj in objects:
        counts[obj.name] += 1
        best[obj.name] = max(best[obj.name], obj.score)
    if not counts:
        return "A photo."
    kinds = sorted(counts, key=lambda name: (-counts[name], -best[name]))[:MAX_KINDS]
    return f"A photo with {listed([counted(name, counts[name]) for name in kinds])}."


class LiteCaptioner(LiteBackend):
    """Runs the detector once on every image of the batch."""

    def run_batch(self, calls):
        images = [call["image"] for call in calls]
        found = dict(zip(map(id, images), self.vision.objects(images)))
        return each(calls, lambda call: describe(found[id(call["image"])]))
