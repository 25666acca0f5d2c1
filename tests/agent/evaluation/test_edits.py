"""Edit checks on synthetic before/after images."""

import numpy as np
import pytest

from agent.evaluation.edits import check_edit

REGION = [[40, 40, 80, 80]]


def photo():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (200, 200, 3), dtype=np.uint8)


def changed(box):
    before = photo()
    after = before.copy()
    x1, y1, x2, y2 = box
    after[y1:y2, x1:x2] = 255 - after[y1:y2, x1:x2]
    return before, after


def outside_changed():
    before = photo()
    after = 255 - before
    after[40:80, 40:80] = before[40:80, 40:80]
    return before, after


@pytest.mark.parametrize("case, tools, ok", [
    ("inside", ["FACEDET", "BLUR"], True),
    ("outside", ["FACEDET", "BLUR"], False),
    ("everywhere", ["FACEDET", "BLUR"], False),
    ("outside", ["BGBLUR"], True),
    ("inside", ["BGBLUR"], False),
    ("outside", ["COLORPOP"], True),
])
def test_where_the_change_falls(case, tools, ok):
    before, after = {"inside": lambda: changed((45, 45, 75, 75)), "outside": outside_changed,
                     "everywhere": lambda: changed((0, 0, 200, 200))}[case]()
    assert check_edit(before, after, tools, tools, REGION).ok is ok


def test_missing_tools_no_image_and_no_change_fail():
    before, after = changed((45, 45, 75, 75))
    missing = check_edit(before, after, ["LOC"], ["LOC", "TAG"], REGION)
    assert not missing.ok and missing.missing_tools == ("TAG",) and "did not use TAG" in missing.reason
    assert not check_edit(before, None, ["BLUR"], ["BLUR"], REGION).ok
    assert "same as the input" in check_edit(before, before.copy(), ["BLUR"], ["BLUR"], REGION).reason


def test_without_a_region_or_with_a_new_size_only_tools_are_checked():
    before = photo()
    assert check_edit(before, before[:50, :50], ["CROP"], ["CROP"], REGION).ok
    assert check_edit(before, before.copy(), ["BLUR"], ["BLUR"]).ok
