import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.tag import Tag


@pytest.fixture(scope="module")
def chelsea():
    return Image(data.chelsea())  # 451 x 300


def changed_pixels(out, image):
    return np.any(out.pixels != image.pixels, axis=-1)


def test_tag_draws_boxes_and_labels_only_on_and_around_the_boxes(chelsea):
    objects = Objects((Obj((100, 80, 250, 250), "cat", category="tabby"),
                       Obj((300, 40, 400, 120), "sign", text="EXIT")), chelsea.size)
    out = Tag().execute(chelsea, objects)
    changed = changed_pixels(out, chelsea)
    assert changed[150, 100] and changed[150, 249] and changed[80, 175] and changed[249, 175]  # box edges
    assert not changed[120:210, 140:210].any()   # the inside of the box stays as it was
    near = np.zeros_like(changed)
    near[40:250, 100:250] = True    # box 0 with its label above
    near[0:120, 300:451] = True     # box 1 with its label above
    assert not changed[~near].any()


def test_tag_labels_differ_for_different_names(chelsea):
    box = (100, 80, 250, 250)
    tabby = Tag().execute(chelsea, Objects((Obj(box, "cat", category="tabby"),), chelsea.size))
    kitten = Tag().execute(chelsea, Objects((Obj(box, "cat", category="kitten"),), chelsea.size))
    assert not np.array_equal(tabby.pixels[50:80, 100:250], kitten.pixels[50:80, 100:250])


def test_no_objects_fails_and_input_untouched(chelsea):
    before = chelsea.pixels.copy()
    with pytest.raises(ToolError, match="no dog found in the image; nothing to tag"):
        Tag().execute(chelsea, Objects.empty(chelsea.size).looking_for("dog"))
    Tag().execute(chelsea, Objects((Obj((1, 1, 50, 50), "x"),), chelsea.size))
    assert np.array_equal(chelsea.pixels, before)


def test_mismatched_objects_are_refused(chelsea):
    with pytest.raises(ToolError, match="TAG"):
        Tag().execute(chelsea, Objects((Obj((1, 1, 50, 50), "x"),), (512, 512)))
