"""OCR as located text on a real photo (dog.jpg) with three labels rendered on it: selected by a located
object (CROP then OCR), by position, and by PICK_TEXT; plain OCR still reads everything."""

from pathlib import Path

import pytest

from loupe.programs.interpreter import Interpreter
from loupe.programs.values import Image, as_text
from loupe.tools.lite.pack import is_pulled
from loupe.tools.settings import Settings

pytest.importorskip("rapidocr", reason="text reading needs `pip install rapidocr onnxruntime`")
pytestmark = pytest.mark.skipif(not is_pulled(), reason="lite model pack not installed; run `loupe models pull`")

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
LABELS = (((20, 12), "CITY CYCLES"), ((85, 448), "GOOD DOG"), ((470, 446), "SALE 20%"))


@pytest.fixture(scope="module")
def labelled() -> Image:
    """dog.jpg (640x480) with black-on-white labels: top left, at the dog's feet, bottom right."""
    from PIL import Image as PILImage, ImageDraw, ImageFont

    picture = PILImage.open(PHOTOS / "dog.jpg").convert("RGB")
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default(size=22)
    for xy, text in LABELS:
        left, top, right, bottom = draw.textbbox(xy, text, font=font)
        draw.rectangle((left - 6, top - 6, right + 6, bottom + 6), fill="white")
        draw.text(xy, text, fill="black", font=font)
    return Image.from_pil(picture, "dog-labelled")


@pytest.fixture(scope="module")
def interpreter():
    from loupe.tools.registry import default_registry

    return Interpreter(default_registry(Settings.from_env(), plugins=False))


def squash(text: str) -> str:
    """OCR may drop the space between words: compare without spaces."""
    return text.replace(" ", "")


def answer(interpreter, program, image):
    execution = interpreter.run(program, {"IMAGE": image})
    assert execution.ok, execution.errors
    return execution


def test_plain_ocr_reads_every_label_in_reading_order(interpreter, labelled):
    execution = answer(interpreter, "T=OCR(image=IMAGE)\nR=RESULT(var=T)", labelled)
    lines = [squash(o.text) for o in execution.result]
    wanted = ["CITYCYCLES", "GOODDOG", "SALE20%"]
    assert [line for line in lines if line in wanted] == wanted  # reading order: top down, left to right
    assert all(o.label == "text" and o.box[2] > o.box[0] for o in execution.result)
    good_dog = execution.result[lines.index("GOODDOG")]
    assert 60 < good_dog.box[0] < 120 and good_dog.box[1] > 420  # where it was drawn


def test_crop_on_a_located_object_reads_only_its_text(interpreter, labelled):
    program = ("B=LOC(image=IMAGE,object='dog')\nC=CROP(image=IMAGE,box=B)\nT=OCR(image=C)\n"
               "A=PICK_TEXT(text=T,question='What is written on the dog?')\nR=RESULT(var=A)")
    assert squash(answer(interpreter, program, labelled).result) == "GOODDOG"


def test_crop_below_selects_by_position(interpreter, labelled):
    program = ("B=LOC(image=IMAGE,object='dog')\nC=CROP_BELOW(image=IMAGE,box=B)\nT=OCR(image=C)\n"
               "R=RESULT(var=T)")
    text = squash(as_text(answer(interpreter, program, labelled).result))
    assert "SALE20%" in text and "GOODDOG" in text and "CITY" not in text


def test_pick_text_follows_the_place_the_question_names(interpreter, labelled):
    program = "T=OCR(image=IMAGE)\nA=PICK_TEXT(text=T,question='What does the label at the bottom right say?')" \
              "\nR=RESULT(var=A)"
    assert squash(answer(interpreter, program, labelled).result) == "SALE20%"
    program = "T=OCR(image=IMAGE)\nA=PICK_TEXT(text=T,question='What does the top left label say?')\nR=RESULT(var=A)"
    assert squash(answer(interpreter, program, labelled).result) == "CITYCYCLES"
