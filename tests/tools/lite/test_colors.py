"""Colour naming on synthetic patches and real photos (tools.lite.colors)."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.values import Image, Obj
from loupe.tools.lite.colors import COLOR_WORDS, color_word, dominant_color, object_region, rgb_of, split_color

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.mark.parametrize("query, expected", [
    ("red bus", ("red", "bus")), ("the Grey car", ("gray", "car")), ("bus", (None, "bus")),
    ("blue", ("blue", "")), ("wine glass", (None, "wine glass")),
])
def test_split_color(query, expected):
    assert split_color(query) == expected


def test_every_colour_names_its_own_rgb():
    for name in COLOR_WORDS:
        patch = Image(np.full((20, 20, 3), rgb_of(name), np.uint8))
        assert dominant_color(patch) == name


def test_rgb_of_understands_aliases_and_lists_the_names_otherwise():
    assert rgb_of("grey") == rgb_of("gray") and color_word("violet") == "purple"
    with pytest.raises(ValueError, match="expected one of red, orange"):
        rgb_of("plaid")


def test_shadows_and_highlights_do_not_outvote_a_coloured_body():
    pixels = np.full((40, 40, 3), (200, 30, 30), np.uint8)  # a red body...
    pixels[:14] = (20, 20, 20)  # ...a dark shadow over a third of it...
    pixels[-8:] = (250, 250, 250)  # ...and a highlight
    assert dominant_color(Image(pixels)) == "red"


def test_painted_box_on_a_photo_is_blue_and_its_surroundings_do_not_leak_in():
    from skimage import data

    pixels = np.array(data.rocket())
    pixels[100:200, 300:420] = (0, 0, 255)
    image = Image(pixels)
    assert dominant_color(image, Obj((290, 90, 430, 210)).region_mask(image.width, image.height)) == "blue"


def test_real_objects_get_their_colours():
    from skimage import data

    dog = photo("dog.jpg")
    car = Obj((391, 64, 569, 138), "car")  # the white pickup, as the detector boxes it
    assert dominant_color(dog, object_region(dog, car)) == "white"
    chelsea = Image(data.chelsea())
    assert dominant_color(chelsea) in ("orange", "brown")  # a ginger tabby


def test_empty_mask_is_refused_with_a_fix():
    image = Image(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError, match="at least one True pixel"):
        dominant_color(image, np.zeros((10, 10), bool))
    assert object_region(image, Obj((2, 2, 5, 5), mask=np.zeros((10, 10), bool))).sum() == 9
