"""FaceDetector on real photos (needs the lite pack: `loupe models pull`)."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image
from loupe.tools.lite.faces import FaceDetector, pyramid_views, ssd_anchor_centres

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
# the eight faces around the table in family_dinner.jpg (478x333, 21-35 px each), hand-checked
DINNER_FACES = [(2, 211, 30, 240), (44, 180, 72, 208), (91, 214, 126, 249), (196, 184, 218, 206),
                (268, 176, 289, 197), (288, 208, 320, 240), (336, 169, 359, 192), (363, 197, 387, 221)]


def photo(name: str):
    from PIL import Image as PILImage

    return PILImage.open(PHOTOS / name).convert("RGB")


@pytest.fixture(scope="module")
def faces():
    from loupe.tools.lite.pack import lite_model_path

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
    assert views[0].whole and len(views) > 1 and min(v.side for v in views) < views[0].side  # MAX_LEVELS levels


def test_astronaut_face_is_found_in_place(faces):
    from skimage import data

    found = faces.detect([Image(data.astronaut(), "astronaut")])[0]
    assert found.labels == ("face",)
    assert iou(found[0].box, (175, 70, 280, 185)) > 0.6
    assert found[0].score > 0.8


def test_eight_small_faces_around_a_table(faces):
    found = faces.detect([Image.from_pil(photo("family_dinner.jpg"))])[0]
    assert len(found) == 8
    for face in DINNER_FACES:
        assert max(iou(face, box) for box in found.boxes) > 0.5


def test_small_faces_in_a_large_photo_are_found_through_tiles(faces):
    """The family dinner blown up 4x on a 2400x1800 canvas: 84-140 px faces, 9-15 px in a single 256 view."""
    from PIL import Image as PILImage

    canvas = PILImage.new("RGB", (2400, 1800), (90, 90, 90))
    canvas.paste(photo("family_dinner.jpg").resize((1912, 1332)), (244, 234))
    found = faces.detect([Image.from_pil(canvas)])[0]
    for x1, y1, x2, y2 in DINNER_FACES:
        face = (x1 * 4 + 244, y1 * 4 + 234, x2 * 4 + 244, y2 * 4 + 234)
        assert max(iou(face, box) for box in found.boxes) > 0.5
    assert len(found) <= 10
