import cv2
import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.blur import Blur

FACE = (180, 40, 290, 190)   # the astronaut's face, x1 y1 x2 y2


@pytest.fixture(scope="module")
def astronaut():
    return Image(data.astronaut())


def laplacian_variance(pixels):
    grey = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    return cv2.Laplacian(grey, cv2.CV_64F).var()


def face_objects(image, mask=None):
    return Objects((Obj(FACE, "face", mask=mask),), image.size)


def test_inside_changes_strongly_and_outside_stays_identical(astronaut):
    out = Blur().execute(astronaut, face_objects(astronaut))
    x1, y1, x2, y2 = FACE
    outside = np.ones((512, 512), bool)
    outside[y1:y2, x1:x2] = False
    assert np.array_equal(out.pixels[outside], astronaut.pixels[outside])
    inner = (slice(y1 + 5, y2 - 5), slice(x1 + 5, x2 - 5))
    assert laplacian_variance(out.pixels[inner]) < 0.05 * laplacian_variance(astronaut.pixels[inner])
    difference = np.abs(out.pixels[inner].astype(int) - astronaut.pixels[inner].astype(int))
    assert difference.mean() > 10


def test_the_face_is_unrecognisable_at_detail_scale(astronaut):
    """Eyes and mouth are gone: no sharp edge is left inside the face."""
    out = Blur().execute(astronaut, face_objects(astronaut))
    x1, y1, x2, y2 = FACE
    face = out.pixels[y1 + 10:y2 - 10, x1 + 10:x2 - 10].astype(float)
    rows = np.abs(np.diff(face, axis=0)).max()
    assert rows < 40   # no sharp edge left anywhere (the original has edges above 100)
    original = astronaut.pixels[y1 + 10:y2 - 10, x1 + 10:x2 - 10].astype(float)
    assert np.abs(np.diff(original, axis=0)).max() > 100


def test_only_the_mask_changes_when_there_is_one(astronaut):
    mask = np.zeros((512, 512), bool)
    mask[60:170, 200:270] = True
    out = Blur().execute(astronaut, face_objects(astronaut, mask))
    assert np.array_equal(out.pixels[~mask], astronaut.pixels[~mask])
    assert not np.array_equal(out.pixels[mask], astronaut.pixels[mask])


def test_no_objects_fails_naming_what_was_not_found(astronaut):
    with pytest.raises(ToolError, match="^no face found in the image; nothing to blur$"):
        Blur().execute(astronaut, Objects.empty(astronaut.size).looking_for("face"))


def test_input_not_modified_and_mismatch_refused(astronaut):
    before = astronaut.pixels.copy()
    Blur().execute(astronaut, face_objects(astronaut))
    assert np.array_equal(astronaut.pixels, before)
    with pytest.raises(ToolError, match="BLUR"):
        Blur().execute(astronaut, Objects((Obj((0, 0, 5, 5), "x"),), (600, 400)))
