"""The lite COCO detector as LOC uses it: CenterNet (+ tiles of large photos) fused with NanoDet, on the
darknet sample photos (needs the lite pack: `loupe models pull`)."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from programs.values import Image
from tools.lite.detector import tile_boxes
from tools.lite.nanodet import HEADS, decode_nanodet
from tools.lite.pack import is_pulled

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
needs_pack = pytest.mark.skipif(not is_pulled(), reason="lite model pack not installed; run `loupe models pull`")


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.fixture(scope="module")
def detector():
    """The default: CenterNet with tiles."""
    from tools.lite.fusion import FusedDetector

    return FusedDetector()


@pytest.fixture(scope="module")
def with_nanodet():
    """The opt-in recall setting: CenterNet 0.35 with tiles, fused with NanoDet at 0.3."""
    from tools.lite.fusion import DetectorOptions, FusedDetector

    return FusedDetector(options=DetectorOptions(centernet_min_score=0.35, nanodet_min_score=0.3))


def counts(detector, name):
    return Counter(detector.detect([photo(name)])[0].labels)


def test_tiles_cover_large_photos_with_overlap_and_skip_small_ones():
    assert tile_boxes(640, 480) == []
    tiles = tile_boxes(773, 512)
    assert tiles == [(0, 0, 512, 512), (261, 0, 773, 512)]
    wide = tile_boxes(2000, 300)
    assert wide[0][0] == 0 and wide[-1][2] == 2000
    assert all(b[0] < a[2] - 512 / 8 for a, b in zip(wide, wide[1:]))  # neighbours overlap by >= 1/8


def test_nanodet_decoding_puts_a_box_around_its_cell():
    scores = [np.zeros(((416 // s) ** 2, 80)) for s, _, _ in HEADS]
    sides = [np.full(((416 // s) ** 2, 44), -50.0) for s, _, _ in HEADS]
    cell = 10 * 26 + 5  # stride 16: row 10, column 5 -> centre (80, 160)
    scores[1][cell, 17] = 0.9
    sides[1][cell].reshape(4, 11)[:, 2] = 50.0  # every side two strides (32 px) away
    boxes, found, classes = decode_nanodet(scores, sides, 0.5)
    np.testing.assert_allclose(boxes, [[48, 128, 112, 192]])
    assert found.tolist() == [0.9] and classes.tolist() == [17]


@needs_pack
def test_person_photo_has_one_person_one_dog_and_the_horse(detector, with_nanodet):
    found = counts(with_nanodet, "person.jpg")
    assert (found["person"], found["dog"], found["horse"]) == (1, 1, 1)
    alone = counts(detector, "person.jpg")  # CenterNet alone calls the horse a sheep
    assert (alone["person"], alone["dog"], alone["horse"]) == (1, 1, 0)


@needs_pack
def test_full_size_horses_are_counted(detector, with_nanodet):
    image = photo("horses-full.jpg")
    assert image.size == (773, 512)
    assert 4 <= counts(detector, "horses-full.jpg")["horse"] <= 6  # the whole view alone finds 3
    assert 4 <= counts(with_nanodet, "horses-full.jpg")["horse"] <= 6


@needs_pack
def test_dog_photo_has_one_dog_one_bicycle_and_the_pickup_truck(with_nanodet):
    found = counts(with_nanodet, "dog-full.jpg")
    assert (found["dog"], found["bicycle"], found["truck"]) == (1, 1, 1)
