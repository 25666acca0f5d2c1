import cv2
import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.bgblur import BgBlur


@pytest.fixture(scope="module")
def astronaut():
    return Image(data.astronaut())


def laplacian_variance(pixels):
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    return cv2.Laplacian(grey, cv2.CV_64F).var()


def person_mask():
    mask = np.zeros((512, 512), bool)
    mask[30:512, 120:360] = True
    return mask


def test_objects_stay_sharp_and_background_loses_detail(astronaut):
    mask = person_mask()
    out = BgBlur().execute(astronaut, Objects((Obj((120, 30, 360, 512), "person", mask=mask),), astronaut.size))
    assert np.array_equal(out.pixels[mask], astronaut.pixels[mask])
    left, right = (slice(None), slice(0, 100)), (slice(None), slice(380, 512))
    for region in (left, right):
        assert laplacian_variance(out.pixels[region]) < 0.1 * laplacian_variance(astronaut.pixels[region])


def test_no_objects_fails_naming_what_was_not_found(astronaut):
    with pytest.raises(ToolError, match="^no surfer found in astronaut.png; nothing to keep sharp$"):
        BgBlur().execute(Image(astronaut.pixels, "/photos/astronaut.png"),
                         Objects.empty(astronaut.size).looking_for("surfer"))


def test_input_not_modified_and_mismatch_refused(astronaut):
    before = astronaut.pixels.copy()
    BgBlur().execute(astronaut, Objects((Obj((10, 10, 100, 100), "x"),), astronaut.size))
    assert np.array_equal(astronaut.pixels, before)
    with pytest.raises(ToolError, match="BGBLUR"):
        BgBlur().execute(astronaut, Objects((Obj((0, 0, 5, 5), "x"),), (100, 100)))
