"""WHERE: the side of the photo the found objects are on, from the lite detector's boxes on real photos
(person.jpg: a dog at the bottom left, a woman, a white horse on the right; dog.jpg: a white car at the top
right; dog_show.jpg: an umbrella at the top right; kite.jpg: kites all over the sky) and from set boxes for
the bands."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ProgramError, ToolError
from loupe.programs.images import load_image
from loupe.programs.interpreter import Interpreter
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.lite.pack import is_pulled
from loupe.tools.settings import Settings
from loupe.tools.where import Where, parse_sides

PHOTOS = Path(__file__).parents[1] / "data" / "photos"
IMAGE = Image(np.zeros((100, 300, 3), np.uint8))   # 300 wide, 100 high


def at(*centres_x: float, y: float = 50) -> Objects:
    return Objects(tuple(Obj((x - 5, y - 5, x + 5, y + 5), "dog", 0.9) for x in centres_x), IMAGE.size, "dog")


@pytest.mark.parametrize("x, sides, side", [
    (40, "left,right", "left"), (160, "left,right", "right"), (140, "left,right", "left"),
    (160, "left,middle,right", "middle"), (90, "left,middle,right", "left"), (210, "left,middle,right", "right"),
    (150, "left, centre, right", "centre"), (250, "left,middle", "right"),   # a side not offered is still said
])
def test_the_centre_decides_the_side_in_halves_or_thirds(x, sides, side):
    assert Where().execute(IMAGE, at(x), sides) == side


def test_vertical_sides_read_the_centre_s_height():
    assert Where().execute(IMAGE, at(150, y=20), "top,bottom") == "top"
    assert Where().execute(IMAGE, at(150, y=55), "top,middle,bottom") == "middle"
    assert Where().execute(IMAGE, at(150, y=80), "upper,lower") == "lower"


def test_objects_on_several_sides_give_each_side_in_the_offered_order():
    assert Where().execute(IMAGE, at(250, 30), "right,left") == "right and left"
    assert Where().execute(IMAGE, at(10, 30), "left,right") == "left"


def test_no_object_is_an_error_naming_it_never_a_side():
    with pytest.raises(ToolError, match="no dog found in the image; nothing to place"):
        Where().execute(IMAGE, Objects.empty(IMAGE.size).looking_for("dog"), "left,right")


@pytest.mark.parametrize("sides", ["left", "left,top", "left,up", "", "middle,centre"])
def test_sides_must_be_two_of_one_axis(sides):
    with pytest.raises(ToolError, match="WHERE"):
        parse_sides(sides)
    assert Where.check({"sides": sides}, 3)[0].line == 3


def test_objects_of_another_image_are_refused():
    crop = Objects((Obj((1, 1, 5, 5), "dog", 0.9),), (50, 50), "dog")
    with pytest.raises(ToolError, match="not a crop of it"):
        Where().execute(IMAGE, crop, "left,right")


needs_models = pytest.mark.skipif(not is_pulled(), reason="lite model pack not installed; run `loupe models pull`")


@pytest.fixture(scope="module")
def interpreter():
    from loupe.tools.registry import default_registry

    return Interpreter(default_registry(Settings.from_env(), plugins=False))


def where(interpreter, photo: str, program: str):
    return interpreter.run(program + "\nFINAL_RESULT=RESULT(var=ANSWER0)", {"IMAGE": load_image(PHOTOS / photo)})


@needs_models
@pytest.mark.parametrize("photo, thing, sides, side", [
    ("person.jpg", "dog", "left,right", "left"), ("person.jpg", "horse", "left,right", "right"),
    ("person.jpg", "dog", "top,bottom", "bottom"), ("person.jpg", "horse", "left,middle,right", "right"),
    ("dog.jpg", "car", "left,right", "right"), ("dog.jpg", "car", "top,bottom", "top"),
    ("dog_show.jpg", "umbrella", "top,bottom", "top"),
])
def test_the_side_of_a_found_object_on_real_photos(interpreter, photo, thing, sides, side):
    execution = where(interpreter, photo, f"BOX0=LOC(image=IMAGE,object='{thing}')\n"
                                          f"ANSWER0=WHERE(image=IMAGE,box=BOX0,sides='{sides}')")
    assert execution.ok, execution.errors
    assert execution.result == side


@needs_models
@pytest.mark.parametrize("photo, thing, phrase, side", [
    ("person.jpg", "dog", "black dog", "left"), ("dog.jpg", "car", "white car", "right")])
def test_a_selected_attribute_places_the_selected_object(interpreter, photo, thing, phrase, side):
    execution = where(interpreter, photo, f"BOX0=LOC(image=IMAGE,object='{thing}')\n"
                      f"BOX1=SELECT(image=IMAGE,object=BOX0,query='{phrase}',category='{thing}')\n"
                      "ANSWER0=WHERE(image=IMAGE,box=BOX1,sides='left,right')")
    assert execution.ok, execution.errors
    assert execution.result == side


@needs_models
def test_an_attribute_no_object_has_is_not_placed(interpreter):
    """The lite colour reader sees person.jpg's red-less dog: 'the red dog' is not there, and no side is said."""
    execution = where(interpreter, "person.jpg", "BOX0=LOC(image=IMAGE,object='dog')\n"
                      "BOX1=SELECT(image=IMAGE,object=BOX0,query='red dog',category='dog')\n"
                      "ANSWER0=WHERE(image=IMAGE,box=BOX1,sides='left,right')")
    assert not execution.ok and "no red dog found" in " ".join(execution.errors)


@needs_models
def test_kites_all_over_the_sky_are_on_both_sides(interpreter):
    execution = where(interpreter, "kite.jpg", "BOX0=LOC(image=IMAGE,object='kite')\n"
                      "ANSWER0=WHERE(image=IMAGE,box=BOX0,sides='left,right')")
    assert execution.result == "left and right"


@needs_models
def test_an_object_not_found_fails_the_step_and_names_it(interpreter):
    execution = where(interpreter, "dog.jpg", "BOX0=LOC(image=IMAGE,object='giraffe')\n"
                      "ANSWER0=WHERE(image=IMAGE,box=BOX0,sides='left,right')")
    assert not execution.ok
    assert "no giraffe found in dog.jpg; nothing to place" in " ".join(execution.errors)


def test_sides_of_two_axes_do_not_check():
    from loupe.programs.checker import check
    from loupe.programs.parser import parse_program
    from loupe.tools.registry import default_registry

    with pytest.raises(ProgramError, match="one axis"):
        check(parse_program("BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=WHERE(image=IMAGE,box=BOX0,"
                            "sides='left,bottom')\nFINAL_RESULT=RESULT(var=ANSWER0)"), default_registry(Settings.from_env(), plugins=False))
