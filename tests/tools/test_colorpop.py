import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.colorpop import ColorPop


@pytest.fixture(scope="module")
def astronaut():
    return Image(data.astronaut())  # 512 x 512


def is_grey(pixels, tolerance=1):
    pixels = pixels.astype(int)
    return (np.ptp(pixels, axis=-1) <= tolerance).all()


def face_mask():
    """An elliptical mask over the astronaut's face."""
    yy, xx = np.mgrid[:512, :512]
    return ((xx - 235) / 55.0) ** 2 + ((yy - 110) / 75.0) ** 2 <= 1


def test_masked_region_keeps_its_colours_and_the_rest_goes_grey(astronaut):
    mask = face_mask()
    objects = Objects((Obj((180, 35, 290, 185), "face", mask=mask),), astronaut.size)
    out = ColorPop().execute(astronaut, objects)
    assert np.array_equal(out.pixels[mask], astronaut.pixels[mask])
    far = np.ones_like(mask)
    far[15:205, 160:310] = False     # everything well away from the face
    assert is_grey(out.pixels[far])
    assert not is_grey(astronaut.pixels[far])


def test_a_box_is_used_when_the_object_has_no_mask(astronaut):
    out = ColorPop().execute(astronaut, Objects((Obj((300, 300, 400, 450), "x"),), astronaut.size))
    assert np.array_equal(out.pixels[300:450, 300:400], astronaut.pixels[300:450, 300:400])
    assert is_grey(out.pixels[:250])


def test_the_edge_is_soft(astronaut):
    out = ColorPop().execute(astronaut, Objects((Obj((300, 300, 400, 450), "x"),), astronaut.size))
    # a couple of pixels left of the box: neither the original colour nor grey
    assert not is_grey(out.pixels[350:360, 297]) and not np.array_equal(
        out.pixels[350:360, 297], astronaut.pixels[350:360, 297])


def test_no_objects_fails_instead_of_greying_everything(astronaut):
    with pytest.raises(ToolError, match="^no object found in the image; nothing to keep in colour$"):
        ColorPop().execute(astronaut, Objects.empty(astronaut.size))


def test_input_is_not_modified_and_source_is_kept():
    image = Image(data.chelsea(), source="cat.png")
    before = image.pixels.copy()
    out = ColorPop().execute(image, Objects((Obj((10, 10, 50, 50), "x"),), image.size))
    assert np.array_equal(image.pixels, before) and out.source == "cat.png"
    assert out.size == image.size and ColorPop.writes_image


def test_objects_from_another_image_are_refused(astronaut):
    with pytest.raises(ToolError, match="COLORPOP.*451x300"):
        ColorPop().execute(astronaut, Objects((Obj((0, 0, 5, 5), "x"),), (451, 300)))
