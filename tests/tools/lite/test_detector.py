"""CenterNetDetector on real photos (needs the lite pack: `loupe models pull`)."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image
from loupe.tools.coco import COCO_CLASSES
from loupe.tools.lite.detector import CenterNetDetector, non_max_suppression

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.fixture(scope="module")
def detector():
    from loupe.tools.lite.pack import lite_model_path

    try:
        lite_model_path("centernet")
    except ToolUnavailable as missing:
        pytest.skip(f"lite model pack not installed; run `loupe models pull` ({missing})")
    return CenterNetDetector()


def boxes_of(objects, label):
    return [o.box for o in objects if o.label == label]


def centre_inside(box, region):
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def test_coco_has_80_classes_in_detector_order():
    assert len(COCO_CLASSES) == 80
    assert (COCO_CLASSES[0], COCO_CLASSES[16], COCO_CLASSES[17], COCO_CLASSES[79]) == (
        "person", "dog", "horse", "toothbrush")


def test_nms_is_class_aware():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], float)
    keep = non_max_suppression(boxes, np.array([0.9, 0.8, 0.7]), 0.5, classes=np.array([0, 0, 1]))
    assert keep.tolist() == [0, 2]


def test_dog_bicycle_and_car_are_found_where_they_are(detector):
    objects = detector.detect([photo("dog.jpg")])[0]
    assert objects.image_size == (640, 480)
    # hand-checked regions of the 640x480 photo: dog bottom-left, bicycle across the middle,
    # white pickup top-right
    assert any(centre_inside(b, (110, 250, 260, 420)) for b in boxes_of(objects, "dog"))
    assert any(centre_inside(b, (200, 180, 380, 320)) and b[2] - b[0] > 300
               for b in boxes_of(objects, "bicycle"))
    assert any(centre_inside(b, (420, 70, 560, 130)) for b in boxes_of(objects, "car"))
    assert all(0 <= o.score <= 1 for o in objects)


def test_other_label_guesses_of_one_object_are_kept(detector):
    """person.jpg: the white horse on the right (x 400-600) scores higher as a sheep than as a horse; the
    horse guess stays on the object, so asking for a horse still finds it."""
    from loupe.tools.vocabulary import labelled_as

    objects = detector.detect([photo("person.jpg")])[0]
    right = [o for o in objects if o.center[0] > 400]
    assert len(right) == 1 and any(label == "horse" and score >= 0.25 for label, score in right[0].guesses)
    assert labelled_as(right[0], "horse").label == "horse" and labelled_as(right[0], "giraffe") is None


def test_all_five_horses_are_counted_at_a_low_threshold(detector):
    """horses.jpg shows five horses: grey (right), white (front), dark brown, a grey one half hidden
    behind the dark brown one, and a brown one cut by the left edge; the last two score 0.2-0.3."""
    objects = detector.detect([photo("horses.jpg")], min_score=0.2)[0]
    assert objects.labels.count("horse") == 5
    assert len(objects) == 5


def test_default_threshold_finds_the_clearly_visible_horses_and_nothing_else(detector):
    objects = detector.detect([photo("horses.jpg")])[0]
    assert set(objects.labels) == {"horse"}
    assert 3 <= len(objects) <= 5


def test_cup_on_coffee_and_batch_matches_single(detector):
    from skimage import data

    images = [Image(data.coffee(), "coffee"), photo("dog.jpg")]
    batch = detector.detect(images)
    assert any(centre_inside(b, (200, 60, 400, 240)) for b in boxes_of(batch[0], "cup"))
    single = detector.detect(images[:1])[0]
    np.testing.assert_allclose(single.boxes, batch[0].boxes, atol=0.5)


def test_boxes_are_in_original_pixels_for_tall_images(detector):
    tall = photo("person.jpg").to_pil().rotate(90, expand=True)
    objects = detector.detect([Image.from_pil(tall)])[0]
    assert objects.image_size == (424, 640)
    people = boxes_of(objects, "person")
    assert people and all(0 <= b[0] <= b[2] <= 424 and 0 <= b[1] <= b[3] <= 640 for b in people)
    assert any(b[3] - b[1] < b[2] - b[0] for b in people)  # the standing man lies on his side now


def test_flip_test_maps_the_mirror_back(detector):
    """With the flip test a photo and its mirror image give mirrored detections (to one heatmap cell: a
    peak's centre is its cell's corner): the mirror's maps are mirrored back, left/right sides swapped."""
    image = photo("dog.jpg")
    mirror = Image(np.ascontiguousarray(image.pixels[:, ::-1]), "dog-mirror.jpg")
    (boxes, scores, classes, _), (m_boxes, m_scores, m_classes, _) = detector.raw([image, mirror], 0.25, flip=True)
    found = {COCO_CLASSES[c] for c in classes}
    assert {"dog", "bicycle", "truck"} <= found
    width, cell = image.width, 4 * max(image.size) / 512
    for label in ("dog", "bicycle", "truck"):
        index = COCO_CLASSES.index(label)
        box = boxes[classes == index][0]
        twin = m_boxes[m_classes == index][0]
        np.testing.assert_allclose([width - twin[2], twin[1], width - twin[0], twin[3]], box, atol=cell + 1)
        assert abs(scores[classes == index][0] - m_scores[m_classes == index][0]) < 0.02
