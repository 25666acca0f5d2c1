import numpy as np
from skimage import data

from loupe.programs.values import Image, Obj, Objects
from loupe.tools.drawing import PALETTE, caption, colour_for, draw_objects


def coffee():
    return Image(data.coffee())  # 600 x 400


def test_boxes_are_outlined_in_distinct_colours():
    image = coffee()
    objects = Objects((Obj((100, 100, 200, 200), "cup"), Obj((300, 150, 500, 350), "spoon")), image.size)
    out = draw_objects(image, objects, labels=False, masks=False)
    assert out.pixels[150, 100].tolist() == list(colour_for(0))   # left edge of box 0
    assert out.pixels[250, 499].tolist() == list(colour_for(1))   # right edge of box 1
    assert np.array_equal(out.pixels[150, 150], image.pixels[150, 150])  # inside untouched
    assert colour_for(0) != colour_for(1) and colour_for(len(PALETTE)) == colour_for(0)


def test_labels_are_drawn_above_the_box_in_its_colour():
    image = coffee()
    out = draw_objects(image, Objects((Obj((100, 100, 200, 200), "cup"),), image.size), masks=False)
    tag = out.pixels[80:99, 100:130].reshape(-1, 3)
    assert (tag == np.array(colour_for(0))).all(axis=1).mean() > 0.4
    assert ((tag == 255).all(axis=1) | (tag == 0).all(axis=1)).any()  # some ink for the letters


def test_label_moves_inside_when_the_box_touches_the_top():
    image = coffee()
    out = draw_objects(image, Objects((Obj((100, 0, 200, 100), "cup"),), image.size), masks=False)
    below_outline = (slice(4, 14), slice(104, 120))
    covered = np.any(out.pixels[below_outline] != image.pixels[below_outline], axis=-1)
    assert covered.all()   # the tag sits inside the box's top-left corner
    lower = draw_objects(image, Objects((Obj((100, 50, 200, 150), "cup"),), image.size), masks=False)
    assert np.array_equal(lower.pixels[54:64, 104:120], image.pixels[54:64, 104:120])  # tag above instead


def test_masks_are_overlaid_translucently():
    image = coffee()
    mask = np.zeros((400, 600), bool)
    mask[300:350, 50:100] = True
    out = draw_objects(image, Objects((Obj((50, 300, 100, 350), "m", mask=mask),), image.size),
                       boxes=False, labels=False)
    inside = out.pixels[mask].astype(float)
    expected = 0.55 * image.pixels[mask].astype(float) + 0.45 * np.array(colour_for(0))
    assert np.abs(inside - expected).max() <= 1
    assert np.array_equal(out.pixels[~mask], image.pixels[~mask])


def test_caption_prefers_text_then_category_then_label():
    assert caption(Obj((0, 0, 1, 1), "sign", text="STOP")) == "STOP"
    assert caption(Obj((0, 0, 1, 1), "person", category="doctor")) == "doctor"
    assert caption(Obj((0, 0, 1, 1), "dog", score=0.5), score=True) == "dog 0.50"
    assert caption(Obj((0, 0, 1, 1), "x" * 100)).endswith("…")


def test_drawing_never_modifies_the_input():
    image = coffee()
    before = image.pixels.copy()
    draw_objects(image, Objects((Obj((10, 10, 300, 300), "x", mask=np.ones((400, 600), bool)),), image.size))
    assert np.array_equal(image.pixels, before)
