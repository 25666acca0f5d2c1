"""SELECT lite (tools.lite.backends.select) on real detections and painted objects."""

from pathlib import Path

import numpy as np
import pytest

from programs.errors import ToolError
from programs.values import Image, Obj, Objects
from tools.context import ToolContext
from tools.lite.backends.select import LiteSelector, Phrase, affordance, parse_phrase

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.fixture(scope="module")
def context():
    from tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    return ToolContext()


@pytest.fixture(scope="module")
def selector():
    return LiteSelector(ToolContext())


def detected(context, image: Image) -> Objects:
    from tools.lite.vision import lite_vision

    return lite_vision(context).objects([image])[0]


def painted_squares() -> tuple[Image, Objects]:
    """A grey canvas with a red, a blue and a red square, all labelled 'car'."""
    pixels = np.full((100, 300, 3), 128, np.uint8)
    boxes = [(10, 20, 70, 80), (110, 20, 170, 80), (210, 20, 290, 90)]
    for (x1, y1, x2, y2), rgb in zip(boxes, [(210, 20, 20), (20, 40, 220), (200, 10, 30)]):
        pixels[y1:y2, x1:x2] = rgb
    return Image(pixels), Objects(tuple(Obj(b, "car", 0.9) for b in boxes), (300, 100))


@pytest.mark.parametrize("text, phrase", [
    ("dog", Phrase("dog")), ("red bus", Phrase("bus", "red")), ("puppies", Phrase("dog")),
    ("dog on the left", Phrase("dog", None, "left")), ("largest horse", Phrase("horse", None, "largest")),
    ("faces", Phrase("face")), ("blue", Phrase("", "blue")), ("man in a hat", None), ("glasses", None),
])
def test_parse_phrase(text, phrase):
    assert parse_phrase(text) == phrase


def test_selects_the_dog_among_the_real_detections(context, selector):
    image = photo("dog.jpg")
    objects = detected(context, image)
    dogs = selector.run(image=image, object=objects, query="dog", category=None)
    assert dogs.labels == ("dog",) and dogs.image_size == objects.image_size
    both = selector.run(image=image, object=objects, query="puppy, car", category=None)
    assert sorted(both.labels) == ["car", "dog"]


def test_colour_words_select_by_the_objects_colour(selector):
    image, cars = painted_squares()
    red = selector.run(image=image, object=cars, query="red car", category=None)
    assert [o.box[0] for o in red] == [10, 210]
    blue = selector.run(image=image, object=cars, query="blue", category="car")
    assert [o.box[0] for o in blue] == [110]
    assert len(selector.run(image=image, object=cars, query="red dog", category=None)) == 0


def test_red_kite_among_the_real_kites(context, selector):
    image = photo("kite.jpg")
    kites = selector.run(image=image, object=detected(context, image), query="red kite", category=None)
    assert len(kites) >= 1 and all(o.label == "kite" for o in kites)
    assert any(500 < o.center[0] < 530 for o in kites)  # the red kite on the right (hand-checked)


def test_position_words_keep_one(selector):
    image, cars = painted_squares()
    assert [o.box[0] for o in selector.run(image=image, object=cars, query="left car", category=None)] == [10]
    assert [o.box[0] for o in selector.run(image=image, object=cars, query="largest", category=None)] == [210]


def test_faces_are_selected_by_label(selector):
    image, _ = painted_squares()
    objects = Objects((Obj((0, 0, 10, 10), "face"), Obj((20, 0, 40, 20), "person")), (300, 100))
    assert selector.run(image=image, object=objects, query="face", category=None).labels == ("face",)


def test_descriptions_beyond_coco_need_clip(selector):
    image, cars = painted_squares()
    assert affordance({"query": "man in a hat"}) == 0.0 and affordance({"query": "red car, dog"}) == 1.0
    assert affordance({"query": object()}) == 0.5
    with pytest.raises(ToolError, match="GPU tier's CLIP"):
        selector.run(image=image, object=cars, query="glasses", category=None)


def test_objects_from_another_image_are_refused(selector):
    image, cars = painted_squares()
    with pytest.raises(ToolError, match="found in a 300x100 image"):
        selector.run(image=image.crop((0, 0, 50, 50)), object=cars, query="car", category=None)
