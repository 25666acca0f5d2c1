"""Shared by the conversation tests (CLI pipe, HTTP): the lite tier's real tools on the test photos, with a
scripted planner (``oracle:programs.jsonl``: each resolved request's program), so a turn's answer shows what
the follow-up was resolved to and what the tools found, not how well a small model ranks."""

from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
PHOTOS = TESTS / "data" / "photos"
ORACLE = f"oracle:{TESTS / 'agent' / 'chat' / 'programs.jsonl'}"

#: (typed, what the planner reads: as typed unless it refers to an earlier turn, status, answer) of the scripted conversation on family_dinner.jpg (8 faces,
#: no dog) and dog.jpg (a dog, a bicycle, a truck); answer None: the turn's result is an image
SCRIPT = [
    ("how many faces are there?", "how many faces are there?", "ok", "8"),
    ("blur them", "blur the faces", "ok", None),
    ("undo", "undo", "ok", "back to photo 1"),
    ("and dogs?", "how many dogs are there", "ok", "0"),
    ("use the second photo", "use the second photo", "ok", "now on photo 2"),
    ("is there a dog?", "is there a dog?", "partial", "yes"),
    ("is there a dog in both photos?", "is there a dog in both photos", "partial", "no"),
    ("blur it", "blur the dog", "ok", None),
    ("what about cats?", "is there a cat in both photos", "ok", "no"),
    ("tag them", "tag them", "needs_clarification", None),
    ("go back", "go back", "ok", "back to photo 2"),
]


def lite_ready() -> bool:
    from loupe.tools.lite.pack import is_pulled

    return is_pulled()


needs_lite = pytest.mark.skipif(not lite_ready(), reason="models not installed; run `loupe models pull`")


def pixels(path_or_image) -> np.ndarray:
    from loupe.programs.images import load_image

    image = load_image(path_or_image) if isinstance(path_or_image, (str, Path)) else path_or_image
    return image.pixels


def check_images(turns: list, image_of) -> None:
    """Each turn's image, as ``image_of(turn) -> pixels | None`` gives it: the blur of the faces changes the first
    photo, undo restores it exactly, the switch shows the second photo, the blur of the dog changes it, and
    'go back' restores it exactly; the question turns show none."""
    first, second = pixels(PHOTOS / "family_dinner.jpg"), pixels(PHOTOS / "dog.jpg")
    shown = [image_of(t) for t in turns]
    assert shown[1].shape == first.shape and changed(shown[1], first) > 0.01   # eight small faces
    assert np.array_equal(shown[2], first)
    assert np.array_equal(shown[4], second)
    assert shown[7].shape == second.shape and changed(shown[7], second) > 0.05   # one big dog
    assert np.array_equal(shown[10], second)
    assert all(shown[i] is None for i in (0, 3, 5, 6, 8, 9))


def changed(image: np.ndarray, before: np.ndarray) -> float:
    """The fraction of pixels that differ."""
    return float((np.abs(image.astype(int) - before).sum(axis=2) > 0).mean())
