import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ProgramError, ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.emoji import Emoji, glyph, resolve_emoji

BOXES = ((180, 40, 290, 190), (20, 350, 120, 420))


@pytest.fixture(scope="module")
def astronaut():
    return Image(data.astronaut())


@pytest.mark.parametrize("name", [
    "smiling_face_with_sunglasses", "smiling face with sunglasses", ":smiling_face_with_sunglasses:",
    ":sunglasses:", "Smiling-Face-With-Sunglasses", "😎", " 😎 "])
def test_names_shortcodes_and_characters_resolve(name):
    assert resolve_emoji(name) == "😎"


@pytest.mark.parametrize("name, char", [
    ("face_with_tears_of_joy", "😂"), ("grinning_face", "😀"), (":joy:", "😂"),
    ("smiling face with heart-eyes", "😍"), ("smiling_face_with_heart_eyes", "😍")])
def test_visprog_and_cldr_names(name, char):
    assert resolve_emoji(name) == char


def test_unknown_name_suggests_close_ones():
    with pytest.raises(ProgramError) as caught:
        resolve_emoji("smiling_face_with_sunglases")
    assert "smiling_face_with_sunglases" in str(caught.value)
    assert "did you mean 'smiling_face_with_sunglasses'" in str(caught.value)


def test_static_check_reports_an_unknown_literal_on_its_line():
    (problem,) = Emoji.check({"emoji": "not_an_emoji_at_all_qq"}, line=3)
    assert problem.line == 3 and "not_an_emoji_at_all_qq" in problem.message
    assert Emoji.check({"emoji": "grinning_face"}, line=3) == []


def test_glyph_is_a_coloured_rgba_picture():
    rgba = glyph("😀")
    assert rgba.ndim == 3 and rgba.shape[2] == 4 and min(rgba.shape[:2]) > 100
    opaque = rgba[rgba[..., 3] == 255][:, :3].astype(int)
    assert (np.ptp(opaque, axis=1) > 100).mean() > 0.3   # mostly saturated yellow, not grey


def test_emoji_covers_each_box_and_nothing_outside(astronaut):
    objects = Objects(tuple(Obj(b, "face") for b in BOXES), astronaut.size)
    out = Emoji().execute(astronaut, objects, "grinning_face")
    changed = np.any(out.pixels != astronaut.pixels, axis=-1)
    inside = np.zeros_like(changed)
    for x1, y1, x2, y2 in BOXES:
        inside[y1:y2, x1:x2] = True
        box_changed = changed[y1:y2, x1:x2]
        assert box_changed.mean() > 0.4            # the glyph fills a good part of the box
        patch = out.pixels[y1:y2, x1:x2][box_changed].astype(int)
        yellow = (patch[:, 0] > 200) & (patch[:, 1] > 170) & (patch[:, 2] < 100)
        assert yellow.mean() > 0.3                 # the grinning face's yellow
    assert not changed[~inside].any()


def test_emoji_is_centred_in_a_wide_box(astronaut):
    box = (100, 200, 400, 260)   # 300 x 60: the glyph is about 60 px, centred on x = 250
    out = Emoji().execute(astronaut, Objects((Obj(box, "x"),), astronaut.size), "😎")
    columns = np.flatnonzero(np.any(out.pixels != astronaut.pixels, axis=(0, 2)))
    assert abs((columns.min() + columns.max()) / 2 - 250) <= 3
    assert columns.max() - columns.min() <= 62


def test_no_objects_input_untouched_and_mismatch_refused(astronaut):
    before = astronaut.pixels.copy()
    with pytest.raises(ToolError, match="no face found in the image; nothing to cover"):
        Emoji().execute(astronaut, Objects.empty(astronaut.size).looking_for("face"), "😎")
    Emoji().execute(astronaut, Objects((Obj(BOXES[0], "x"),), astronaut.size), "😎")
    assert np.array_equal(astronaut.pixels, before)
    with pytest.raises(ToolError, match="EMOJI"):
        Emoji().execute(astronaut, Objects((Obj((0, 0, 5, 5), "x"),), (10, 10)), "😎")


def test_unknown_emoji_at_run_time_is_a_program_error(astronaut):
    with pytest.raises(ProgramError):
        Emoji().execute(astronaut, Objects.empty(astronaut.size), "no_such_emoji_zz")
