"""VQA lite (tools.lite.backends.vqa): questions answered from the detector, faces and OCR."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.context import ToolContext
from loupe.tools.lite.backends.vqa import LiteVqa, affordance, parse_question, reading_order

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


@pytest.fixture(scope="module")
def vqa():
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    return LiteVqa(ToolContext())


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


def ask(vqa, image: Image, question: str) -> str:
    return vqa.run(image=image, question=question)


@pytest.mark.parametrize("question, kind", [
    ("How many horses are there?", "count"), ("how many people are in the picture", "count"),
    ("Is there a dog?", "exists"), ("Are there any cars?", "exists"), ("Do you see a bicycle?", "exists"),
    ("Is there a dog and a bicycle?", "exists"), ("Does the image show a cat?", "exists"),
    ("What colour is the bus?", "color"), ("What's the color of the cup?", "color"),
    ("What is written on the poster?", "text"), ("What is written on the page?", "text"),
    ("What text is on the label?", "text"),
])
def test_supported_questions_parse(question, kind):
    assert parse_question(question).kind == kind
    assert affordance({"question": question}) == 1.0


@pytest.mark.parametrize("question", ["Why is the dog sad?", "How many people are wearing hats?",
                                      "Is there a unicorn?", "What color is the sky?", "Who is this?"])
def test_other_questions_need_the_gpu_tier(vqa, question):
    assert parse_question(question) is None and affordance({"question": question}) == 0.0
    with pytest.raises(ToolError, match="GPU tier's VQA model"):
        ask(vqa, photo("dog.jpg"), question)


def test_affordance_is_unsure_about_unknown_text():
    assert affordance({"question": object()}) == 0.5


def test_counting_answers_the_photos_real_count(vqa):
    # hand-counted: one dog, one skateboarder, eight faces around the dinner table (tests/data/bench holds the
    # dog's and the faces' boxes); the dinner's people are not asked: the man half hidden behind the woman in
    # front is not found (7 of 8, a known miss of tests/data/bench's t03)
    assert ask(vqa, photo("dog.jpg"), "How many dogs are there?") == "1"
    assert ask(vqa, photo("skateboarder.jpg"), "how many people are there?") == "1"
    assert ask(vqa, photo("family_dinner.jpg"), "How many faces are there?") == "8"


def test_existence(vqa):
    dog = photo("dog.jpg")
    answers = vqa.run_batch([{"image": dog, "question": q} for q in (
        "Is there a dog?", "is there a giraffe?", "Are there any bicycles?", "Is there a dog and a bicycle?",
        "Is there a dog and a horse?", "is there a horse or a car?")])
    assert answers == ["yes", "no", "yes", "yes", "no", "yes"]


def test_colour_of_the_largest_match(vqa):
    assert ask(vqa, photo("dog.jpg"), "What color is the car?") == "white"
    assert ask(vqa, blue_horses(), "What colour is the horse?") == "blue"


def blue_horses() -> Image:
    """horses.jpg with the left half tinted blue (hue and saturation changed, brightness kept)."""
    import cv2

    hsv = cv2.cvtColor(np.array(photo("horses.jpg").pixels), cv2.COLOR_RGB2HSV)
    hsv[:, :320, 0], hsv[:, :320, 1] = 120, 230
    return Image(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def test_reading_the_page(vqa):
    from skimage import data

    page = Image(np.repeat(data.page()[..., None], 3, axis=2), "page")
    text = ask(vqa, page, "What does the page say?")
    assert text.startswith("region-based segmentation")
    for word in ("markers", "background", "histogram"):
        assert word in text
    assert ask(vqa, Image(data.rocket()), "what is written here?") == "no text"


def test_reading_order_is_rows_then_left_to_right():
    lines = Objects((Obj((60, 52, 100, 60), text="d"), Obj((0, 0, 50, 10), text="a"),
                     Obj((60, 2, 100, 11), text="b"), Obj((0, 50, 50, 60), text="c")), (100, 60))
    assert [o.text for o in reading_order(lines)] == ["a", "b", "c", "d"]
