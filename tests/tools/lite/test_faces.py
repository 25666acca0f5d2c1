"""FaceDetector on real photos (needs the lite pack: `loupe models pull`)."""

from pathlib import Path

import numpy as np
import pytest

from programs.errors import ToolUnavailable
from programs.values import Image
from tools.lite.faces import FaceDetector, pyramid_views, ssd_anchor_centres

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
# the five musicians' faces in musicians.jpg (500x333), hand-checked
MUSICIAN_FACES = [(121, 155, 141, 176), (234, 162, 254, 182), (41, 177, 58, 194),
                  (318, 139, 339, 161), (441, 157, 457, 173)]


def photo(name: str):
    from PIL import Image as PILImage

    return PILImage.open(PHOTOS / name).convert("RGB")


@pytest.fixture(scope="module")
def faces():
    from tools.lite.pack import lite_model_path

    try:
        lite_model_path("blazeface")
    except ToolUnavailable as missing:
        pytest.skip(f"lite model pack not installed; run `loupe models pull` ({missing})")
    return FaceDetector()


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_anchors_follow_mediapipe_layout():
    anchors = ssd_anchor_centres(256, (16, 32, 32, 32))
    assert anchors.shape == (896, 2)
    np.testing.assert_allclose(anchors[:3], [[1 / 32, 1 / 32]] * 2 + [[3 / 32, 1 / 32]])
    np.testing.assert_allclose(anchors[512:519], [[1 / 16, 1 / 16]] * 6 + [[3 / 16, 1 / 16]])


def test_small_images_use_one_view_large_ones_are_tiled():
    assert len(pyramid_views(0, 300, 200)) == 1
    views = pyramid_views(0, 4000, 3000)
    assert views[0].whole and len(views) > 4 and min(v.side for v in views) < 1000


def test_astronaut_face_is_found_in_place(faces):
    from skimage import data

    found = faces.detect([Image(data.astronaut(), "astronaut")])[0]
    assert found.labels == ("face",)
    assert iou(found[0].box, (175, 70, 280, 185)) > 0.6
    assert found[0].score > 0.8


def test_five_small_faces_of_the_musicians(faces):
    found = faces.detect([Image.from_pil(photo("musicians.jpg"))])[0]
    assert len(found) == 5
    for face in MUSICIAN_FACES:
        assert max(iou(face, box) for box in found.boxes) > 0.5


def test_small_faces_in_a_large_photo_are_found_through_tiles(faces):
    """The musicians blown up 4x on a 2400x1800 canvas: 70-px faces, 9 px in a single 256 view."""
    from PIL import Image as PILImage

    canvas = PILImage.new("RGB", (2400, 1800), (90, 90, 90))
    canvas.paste(photo("musicians.jpg").resize((2000, 1332)), (200, 234))
    found = faces.detect([Image.from_pil(canvas)])[0]
    for x1, y1, x2, y2 in MUSICIAN_FACES:
        face = (x1 * 4 + 200, y1 * 4 + 234, x2 * 4 + 200, y2 * 4 + 234)
        assert max(iou(face, box) for box in found.boxes) > 0.5
    assert len(found) <= 7
