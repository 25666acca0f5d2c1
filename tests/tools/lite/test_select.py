"""SELECT lite (tools.lite.backends.select) on real detections and painted objects."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.context import ToolContext
from loupe.tools.lite.backends.select import LiteSelector, Phrase, affordance, parse_phrase
from loupe.tools.settings import Settings

PHOTOS = Path(__file__).parents[2] / "data" / "photos"


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.fixture(scope="module")
def context():
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    return ToolContext()


@pytest.fixture(scope="module")
def selector():
    return LiteSelector(ToolContext())


def detected(context, image: Image) -> Objects:
    from loupe.tools.lite.vision import lite_vision

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
    ("the man in the yellow shirt", Phrase("person", "yellow", part="upper", one=True)),
    ("the woman with the blue bag", Phrase("person", accessory=Phrase("handbag", "blue"), one=True)),
    ("the white car on the left", Phrase("car", "white", "left")),
    ("the person on the right in a red top", Phrase("person", "red", "right", "upper", one=True)),
    ("skiers wearing black trousers", Phrase("person", "black", part="lower")),
    ("girl dressed in green", Phrase("person", "green", part="body", one=True)),
    ("boy with an orange helmet", Phrase("person", "orange", part="head", one=True)),
    ("man holding an umbrella", Phrase("person", accessory=Phrase("umbrella"), one=True)),
    ("the dog in a red sweater", None), ("girl with blonde hair", None), ("man next to the car", None),
    ("the red man in a blue shirt", None), ("man in", None),
])
def test_parse_phrase(text, phrase):
    assert parse_phrase(text) == phrase


def people_in_clothes() -> tuple[Image, Objects]:
    """Two standing 'people' with masks on a grey canvas: the left one in a yellow shirt and blue
    trousers holding a red bag, the right one in a red shirt and grey trousers holding a blue bag; and
    three cars: white (left), white (right), red."""
    pixels = np.full((200, 400, 3), 128, np.uint8)
    people = []
    for x, shirt, trousers in ((40, (240, 210, 20), (20, 40, 200)), (160, (210, 20, 30), (120, 120, 120))):
        mask = np.zeros((200, 400), bool)
        mask[20:190, x:x + 40] = True
        pixels[20:50, x:x + 40] = (230, 180, 150)   # head
        pixels[50:110, x:x + 40] = shirt
        pixels[110:190, x:x + 40] = trousers
        people.append(Obj((x, 20, x + 40, 190), "person", 0.9, mask))
    bags = [Obj((70, 100, 90, 130), "handbag", 0.6), Obj((190, 100, 210, 130), "handbag", 0.6)]
    pixels[100:130, 70:90], pixels[100:130, 190:210] = (220, 20, 20), (20, 40, 220)
    cars = [Obj((240, 150, 280, 190), "car", 0.8), Obj((350, 150, 390, 190), "car", 0.8),
            Obj((300, 150, 340, 190), "car", 0.8)]
    for car, rgb in zip(cars, [(250, 250, 250), (245, 245, 245), (200, 20, 20)]):
        x1, y1, x2, y2 = (int(v) for v in car.box)
        pixels[y1:y2, x1:x2] = rgb
    return Image(pixels), Objects(tuple(people + bags + cars), (400, 200))


@pytest.mark.parametrize("query, expected", [
    ("the man in the yellow shirt", [(40, "person")]),
    ("woman in a red top", [(160, "person")]),
    ("person wearing blue jeans", [(40, "person")]),
    ("the woman with the blue bag", [(160, "person")]),
    ("the person with a red handbag", [(40, "person")]),
    ("the white car on the left", [(240, "car")]),
    ("white cars", [(240, "car"), (350, "car")]),
    ("people in yellow or red shirts", None),
    ("people in red", [(160, "person")]),
    ("man in a green shirt", []),
    ("man holding an umbrella", []),
])
def test_clothing_accessories_and_positions_pick_the_described_object(selector, query, expected):
    image, objects = people_in_clothes()
    if expected is None:
        with pytest.raises(ToolError, match="CLIP"):
            selector.run(image=image, object=objects, query=query, category=None)
        return
    chosen = selector.run(image=image, object=objects, query=query, category=None)
    assert [(int(o.box[0]), o.label) for o in chosen] == expected


def test_another_label_guess_of_the_detector_is_selectable_and_relabelled(selector):
    image, _ = painted_squares()
    objects = Objects((Obj((10, 20, 70, 80), "sheep", 0.4, guesses=(("horse", 0.31),)),), (300, 100))
    horses = selector.run(image=image, object=objects, query="horse", category=None)
    assert horses.labels == ("horse",) and horses[0].score == 0.31
    assert len(selector.run(image=image, object=objects, query="cow", category=None)) == 0


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
    with pytest.raises(ToolError, match="cannot judge the query 'the man in a hat'.*GPU tier's CLIP"):
        selector.run(image=image, object=cars, query="the man in a hat", category=None)


def test_objects_from_another_image_are_refused(selector):
    image, cars = painted_squares()
    with pytest.raises(ToolError, match="found in a 300x100 image"):
        selector.run(image=image.crop((0, 0, 50, 50)), object=cars, query="car", category=None)


def segmented(image: Image) -> Objects:
    from loupe.programs.interpreter import Interpreter
    from loupe.tools.registry import default_registry

    execution = Interpreter(default_registry(Settings.from_env(), plugins=False)).run("O=SEG(image=IMAGE)\nR=RESULT(var=O)",
                                                                 {"IMAGE": image})
    assert execution.ok, execution.errors
    return execution.result


def test_clothing_colours_and_accessories_on_a_real_crowd(context, selector):
    """stadium.jpg (hand-checked): on the left a man in a blue T-shirt (x 71-133), then a woman and a man
    in orange tops (x 132-180, 176-257), on the right a boy in white with a black backpack (x 328-398)."""
    image = photo("stadium.jpg")
    people = segmented(image)
    blue = selector.run(image=image, object=people, query="the man in the blue shirt", category=None)
    assert [round(o.box[0], -1) for o in blue] == [70]
    orange = selector.run(image=image, object=people, query="the person in the orange top on the right",
                          category=None)
    assert [round(o.box[0], -1) for o in orange] == [180]
    assert len(selector.run(image=image, object=people, query="man in a green jacket", category=None)) == 0


@pytest.mark.xfail(strict=True, reason="the backpack scores below the calibrated counting threshold (issue 23: 0.3), "
                   "so no person is seen with one")
def test_the_boy_with_the_backpack_on_a_real_crowd(context, selector):
    image = photo("stadium.jpg")
    backpack = selector.run(image=image, object=segmented(image), query="the boy with the backpack", category=None)
    assert [o.label for o in backpack] == ["person"] and 320 < backpack[0].box[0] < 340


def test_white_car_on_the_left_of_a_real_street(context, selector):
    """tow_truck.jpg (hand-checked): a red tow truck, and a white car at the left edge behind it."""
    image = photo("tow_truck.jpg")
    found = selector.run(image=image, object=segmented(image), query="the white car on the left", category=None)
    assert [o.label for o in found] == ["car"] and found[0].box[0] < 10 and found[0].box[2] < 70
