"""CLASSIFY lite (tools.lite.backends.classify): label and colour categories, VisProg's best-per-category."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.context import ToolContext
from loupe.tools.lite.backends.classify import LiteClassifier, affordance

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


@pytest.fixture(scope="module")
def classifier():
    return LiteClassifier(ToolContext())


def painted_cars() -> tuple[Image, Objects]:
    """A grey canvas with a red and a blue square, both labelled 'car', and a 'dog' box."""
    pixels = np.full((100, 300, 3), 128, np.uint8)
    pixels[20:80, 10:70] = (210, 20, 20)
    pixels[20:80, 110:170] = (20, 40, 220)
    objects = (Obj((10, 20, 70, 80), "car", 0.9), Obj((110, 20, 170, 80), "car", 0.8),
               Obj((200, 10, 290, 90), "dog", 0.7))
    return Image(pixels), Objects(objects, (300, 100))


def test_each_category_keeps_its_best_object(classifier):
    image, objects = painted_cars()
    found = classifier.run(image=image, object=objects, categories=("blue car", "red car"))
    assert [(o.category, o.box[0]) for o in found] == [("blue car", 110), ("red car", 10)]
    assert all(o.label == "car" for o in found)


def test_label_categories_with_synonyms(classifier):
    image, objects = painted_cars()
    found = classifier.run(image=image, object=objects, categories=["puppy", "automobile", "horse"])
    assert [(o.category, o.label) for o in found] == [("puppy", "dog"), ("automobile", "car")]
    assert found[1].box[0] == 10  # the better-scored car


def test_real_detections_of_the_dog_photo(classifier):
    from PIL import Image as PILImage
    from loupe.tools.lite.pack import is_pulled
    from loupe.tools.lite.vision import lite_vision

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    image = Image.from_pil(PILImage.open(PHOTOS / "dog.jpg"))
    objects = lite_vision(classifier.context).objects([image])[0]
    found = classifier.run(image=image, object=objects, categories=("white car", "dog"))
    assert [(o.category, o.label) for o in found] == [("white car", "car"), ("dog", "dog")]


@pytest.mark.parametrize("categories", [("Ryan Gosling", "Emma Stone"), ("man", "woman"), ("cat", "unicorn")])
def test_knowledge_categories_need_clip(classifier, categories):
    image, objects = painted_cars()
    assert affordance({"categories": categories}) == 0.0
    with pytest.raises(ToolError, match="GPU tier's CLIP"):
        classifier.run(image=image, object=objects, categories=categories)


def test_affordance_of_lite_categories():
    assert affordance({"categories": ("red car", "dog", "face")}) == 1.0
    assert affordance({"categories": object()}) == 0.5
