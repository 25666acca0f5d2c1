"""CAPTION lite (tools.lite.backends.caption) on real photos."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.values import Image, Obj, Objects
from loupe.tools.context import ToolContext
from loupe.tools.lite.backends.caption import LiteCaptioner, describe, plural

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


@pytest.fixture(scope="module")
def captioner():
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    return LiteCaptioner(ToolContext())


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.mark.parametrize("name, many", [("horse", "horses"), ("person", "people"), ("bus", "buses"),
                                        ("wine glass", "wine glasses"), ("sheep", "sheep"),
                                        ("knife", "knives"), ("teddy bear", "teddy bears")])
def test_plural(name, many):
    assert plural(name) == many


def test_sentence_orders_by_count_then_score_with_articles():
    objects = Objects((Obj((0, 0, 1, 1), "dog", 0.4), Obj((0, 0, 1, 1), "airplane", 0.9),
                       Obj((0, 0, 1, 1), "horse", 0.3), Obj((0, 0, 1, 1), "horse", 0.2)), (10, 10))
    assert describe(objects) == "A photo with 2 horses, an airplane and a dog."
    assert describe(Objects.empty((10, 10))) == "A photo."


def test_horses_photo_mentions_horses(captioner):
    sentence = captioner.run(image=photo("horses.jpg"))
    assert sentence.startswith("A photo with ") and "horses" in sentence and sentence.endswith(".")


def test_batch_captions_each_photo_and_nothing_found_is_a_photo(captioner):
    from skimage import data

    sentences = captioner.run_batch([{"image": photo("dog.jpg")}, {"image": Image(data.rocket())},
                                     {"image": Image(np.zeros((64, 64, 3), np.uint8))}])
    assert "a dog" in sentences[0] and "bicycle" in sentences[0] and "car" in sentences[0]
    assert sentences[2] == "A photo."
