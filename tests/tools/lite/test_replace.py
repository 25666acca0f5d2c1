"""REPLACE lite (tools.lite.backends.replace): removal by inpainting and recolouring, on real photos."""

import re
from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.context import ToolContext
from loupe.tools.imageops import greyscale
from loupe.tools.lite.backends.replace import LiteReplacer, affordance, recolor_target, removal_region
from loupe.tools.lite.colors import dominant_color
from loupe.tools.install import pip_extra

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
BOX = (300, 100, 420, 200)


@pytest.fixture(scope="module")
def replacer():
    return LiteReplacer(ToolContext())


def rocket_with_a_blue_square() -> tuple[Image, Objects]:
    """The rocket photo with a pure blue square painted on its sky/trees, and that square as an object."""
    from skimage import data

    pixels = np.array(data.rocket())
    x1, y1, x2, y2 = BOX
    pixels[y1:y2, x1:x2] = (0, 0, 255)
    image = Image(pixels)
    return image, Objects((Obj(BOX, "thing"),), image.size)


def ring_around(region: np.ndarray, width: int = 6) -> np.ndarray:
    import cv2

    grown = cv2.dilate(region.astype(np.uint8), np.ones((2 * width + 1, 2 * width + 1), np.uint8))
    return grown.astype(bool) & ~region


@pytest.mark.parametrize("prompt", ["", "nothing", "Background", "remove", "erase"])
def test_removal_fills_from_the_surroundings_and_changes_nothing_else(replacer, prompt):
    image, objects = rocket_with_a_blue_square()
    result = replacer.run(image=image, object=objects, prompt=prompt)
    region = removal_region(image, objects.union_mask())
    assert np.array_equal(result.pixels[~region], image.pixels[~region])
    filled = result.pixels[region].astype(float).mean(axis=0)
    around = image.pixels[ring_around(region)].astype(float).mean(axis=0)
    assert np.abs(filled - around).max() < 25  # background-like, not blue
    assert dominant_color(result, region) != "blue"
    assert not image.pixels.flags.writeable and image.pixels[150, 350].tolist() == [0, 0, 255]


def test_removing_a_real_horse_uses_its_box_and_keeps_the_rest(replacer):
    from PIL import Image as PILImage

    image = Image.from_pil(PILImage.open(PHOTOS / "horses.jpg"))
    horse = Objects((Obj((357, 174, 497, 286), "horse"),), image.size)  # the detector's best horse
    result = replacer.run(image=image, object=horse, prompt="nothing")
    region = removal_region(image, horse.union_mask())
    assert np.array_equal(result.pixels[~region], image.pixels[~region])
    assert not np.array_equal(result.pixels[region], image.pixels[region])


def test_recolouring_to_blue_keeps_the_luminance_structure(replacer):
    from skimage import data

    image = Image(data.coffee())
    cup = Objects((Obj((169, 15, 415, 266), "cup"),), image.size)  # the detector's cup box
    result = replacer.run(image=image, object=cup, prompt="make it blue")
    region = cup.union_mask()
    assert dominant_color(result, region) == "blue"
    before, after = (greyscale(i.pixels)[..., 0][region].astype(float) for i in (image, result))
    assert np.corrcoef(before, after)[0, 1] > 0.8
    assert np.array_equal(result.pixels[~region], image.pixels[~region])


@pytest.mark.parametrize("prompt, color", [("blue bus", "blue"), ("make it red", "red"), ("a green car", "green"),
                                           ("paint them grey", "gray"), ("a teapot", None), ("red hat", None)])
def test_recolour_prompts(prompt, color):
    assert recolor_target(prompt) == color


def test_other_prompts_need_stable_diffusion(replacer):
    image, objects = rocket_with_a_blue_square()
    assert affordance({"prompt": "a teapot"}) == 0.0
    assert affordance({"prompt": ""}) == affordance({"prompt": "blue bus"}) == 1.0
    assert affordance({"prompt": object()}) == 0.5
    with pytest.raises(ToolError, match="Stable Diffusion inpainting.*" + re.escape(pip_extra("gpu"))):
        replacer.run(image=image, object=objects, prompt="a teapot")


def test_nothing_to_replace_returns_the_image_unchanged(replacer):
    image, _ = rocket_with_a_blue_square()
    assert replacer.run(image=image, object=Objects.empty(image.size), prompt="") == image
    assert replacer.run(image=image, object=Objects.empty(image.size), prompt="blue") == image
