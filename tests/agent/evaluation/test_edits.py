"""Edit checks on synthetic before/after images: each check passes the right edit and fails the wrong ones."""

import cv2
import numpy as np
import pytest

from loupe.agent.evaluation.edits import check_edit, edit_kind

REGION = [[60, 50, 120, 150]]   # a 60x100 "person" on a 240x200 photo
X1, Y1, X2, Y2 = REGION[0]


def photo(grey_background: bool = False) -> np.ndarray:
    """Textured colourful background (or a smooth grey one) with a textured orange object in REGION."""
    rng = np.random.default_rng(0)
    pixels = cv2.GaussianBlur(rng.integers(0, 255, (200, 240, 3), dtype=np.uint8), (0, 0), 1.0)
    if grey_background:
        pixels = np.full((200, 240, 3), 120, np.uint8) + rng.integers(0, 3, (200, 240, 1), dtype=np.uint8)
    body = rng.integers(-40, 40, (Y2 - Y1, X2 - X1, 1))
    pixels[Y1:Y2, X1:X2] = np.clip(np.array([230, 120, 30]) + body, 0, 255).astype(np.uint8)
    return pixels


def grey(pixels):
    return np.repeat(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def blurred(pixels):
    return cv2.GaussianBlur(pixels, (0, 0), 6.0)


def keep_box(edited, original, box=REGION[0]):
    x1, y1, x2, y2 = box
    out = edited.copy()
    out[y1:y2, x1:x2] = original[y1:y2, x1:x2]
    return out


def paint(pixels, box, value=(0, 200, 0)):
    x1, y1, x2, y2 = box
    out = pixels.copy()
    out[y1:y2, x1:x2] = value
    return out


def check(tools, before, after, regions=REGION):
    return check_edit(before, after, tools, tools, regions)


def test_the_edit_is_the_first_known_expected_tool():
    assert edit_kind(["SEG", "SELECT", "COLORPOP"]) == "COLORPOP"
    assert edit_kind(["LOC", "CROP"]) == "CROP" and edit_kind(["LOC", "CROP_LEFTOF"]) == "CROP"
    assert edit_kind(["LOC"]) == ""


@pytest.mark.parametrize("grey_background", [False, True])
def test_colorpop_passes_when_the_region_keeps_its_colour_and_the_rest_is_grey(grey_background):
    before = photo(grey_background)
    result = check(["SEG", "SELECT", "COLORPOP"], before, keep_box(grey(before), before))
    assert result.ok, result.reason
    assert result.measures["region_kept"] == 1.0 and result.measures["rest_grey"] >= 0.99


def test_colorpop_fails_when_everything_is_grey_the_wrong_object_is_kept_or_the_rest_keeps_colour():
    before = photo()
    all_grey = check(["COLORPOP"], before, grey(before))
    assert not all_grey.ok and "region 1: 0%" in all_grey.reason
    wrong = check(["COLORPOP"], before, keep_box(grey(before), before, (160, 20, 230, 90)))
    assert not wrong.ok
    half = grey(before)
    half[:, :30] = before[:, :30]  # a strip of the background kept its colour
    assert not check(["COLORPOP"], before, keep_box(half, before)).ok


def test_bgblur_passes_when_the_region_stays_sharp_and_the_rest_is_blurred():
    before = photo()
    result = check(["SEG", "SELECT", "BGBLUR"], before, keep_box(blurred(before), before))
    assert result.ok, result.reason
    assert result.measures["region_detail"] == 1.0 and result.measures["rest_detail"] < 0.3


def test_bgblur_on_a_smooth_background_passes_there_is_nothing_to_blur():
    before = photo(grey_background=True)
    assert check(["BGBLUR"], before, keep_box(blurred(before), before)).ok


def test_bgblur_fails_when_everything_or_the_wrong_part_is_blurred():
    before = photo()
    everything = check(["BGBLUR"], before, blurred(before))
    assert not everything.ok and "region 1 keeps" in everything.reason
    only_region = before.copy()
    only_region[Y1:Y2, X1:X2] = blurred(before)[Y1:Y2, X1:X2]
    assert not check(["BGBLUR"], before, only_region).ok


@pytest.mark.parametrize("tool", ["BLUR", "EMOJI"])
def test_local_edits_must_change_every_region_and_little_else(tool):
    before = photo()
    two = [REGION[0], [170, 20, 220, 70]]
    inside = paint(paint(before, (65, 55, 115, 145)), (172, 22, 218, 68))
    assert check(["FACEDET", tool], before, inside, two).ok
    only_first = paint(before, (65, 55, 115, 145))
    missed = check(["FACEDET", tool], before, only_first, two)
    assert not missed.ok and "region 2: 0% of it changed" in missed.reason
    assert not check(["FACEDET", tool], before, paint(before, (0, 0, 240, 200)), two).ok


def test_tag_must_outline_each_region():
    before = photo()
    outlined = before.copy()
    cv2.rectangle(outlined, (X1, Y1), (X2, Y2), (255, 0, 0), 2)
    assert check(["LOC", "TAG"], before, outlined).ok
    elsewhere = before.copy()
    cv2.rectangle(elsewhere, (170, 20), (220, 70), (255, 0, 0), 2)
    assert not check(["LOC", "TAG"], before, elsewhere).ok


def test_replace_changes_the_region_and_nothing_else():
    before = photo()
    assert check(["SEG", "SELECT", "REPLACE"], before, paint(before, (62, 52, 118, 148))).ok
    spilled = paint(paint(before, (62, 52, 118, 148)), (150, 0, 240, 200))
    result = check(["REPLACE"], before, spilled)
    assert not result.ok and "the rest:" in result.reason
    assert not check(["REPLACE"], before, paint(before, (170, 20, 220, 70))).ok


def test_crop_must_hold_the_target_box_and_not_much_more():
    before = photo()
    good = check(["LOC", "CROP"], before, before[35:175, 45:135])
    assert good.ok and good.measures["covered"] == 1.0, good.reason
    assert not check(["LOC", "CROP"], before, before.copy()).ok          # the whole photo: nothing cropped
    assert not check(["LOC", "CROP"], before, before[100:200, 130:240]).ok  # another part of the photo
    assert not check(["LOC", "CROP"], before, before[60:100, 70:110]).ok  # cuts the object
    assert not check(["LOC", "CROP"], before, np.zeros((80, 80, 3), np.uint8)).ok  # not from the photo


def test_missing_tools_no_image_and_no_change_fail():
    before = photo()
    after = paint(before, (65, 55, 115, 145))
    missing = check_edit(before, after, ["LOC"], ["LOC", "TAG"], REGION)
    assert not missing.ok and missing.missing_tools == ("TAG",) and "did not use TAG" in missing.reason
    assert not check(["BLUR"], before, None).ok
    assert "same as the input" in check(["BLUR"], before, before.copy()).reason
    assert "keeps the size" in check(["BLUR"], before, before[:50, :50]).reason


def test_without_a_region_only_tools_are_checked():
    before = photo()
    assert check_edit(before, before.copy(), ["BLUR"], ["BLUR"]).ok


def test_a_blur_of_a_regions_core_passes_though_few_of_its_box_pixels_changed():
    """A detector's tight face box blurred inside a larger hand-drawn region: the core lost its detail."""
    before = photo()
    x1, y1, x2, y2 = REGION[0]
    core = (x1 + 20, y1 + 30, x2 - 20, y2 - 30)   # the central third of the region
    after = before.copy()
    cx1, cy1, cx2, cy2 = core
    after[cy1:cy2, cx1:cx2] = cv2.GaussianBlur(before, (0, 0), 6.0)[cy1:cy2, cx1:cx2]
    assert check_edit(before, after, ["FACEDET", "BLUR"], ["FACEDET", "BLUR"], REGION).ok
    # the same small change beside the core (the region's edge) is no blur of the region
    edge = before.copy()
    edge[y1:y1 + 12, x1:x1 + 12] = cv2.GaussianBlur(before, (0, 0), 6.0)[y1:y1 + 12, x1:x1 + 12]
    assert not check_edit(before, edge, ["FACEDET", "BLUR"], ["FACEDET", "BLUR"], REGION).ok
