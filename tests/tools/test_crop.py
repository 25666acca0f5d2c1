import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.crop import Crop, CropAbove, CropBelow, CropLeftOf, CropRightOf, crop_region, enlarged_box


@pytest.fixture(scope="module")
def coffee():
    return Image(data.coffee())  # 600 x 400


def objects_at(image, *boxes):
    return Objects(tuple(Obj(box, "thing") for box in boxes), image.size)


def test_crop_takes_the_first_box_enlarged_one_and_a_half_times(coffee):
    out = Crop().execute(coffee, objects_at(coffee, (200, 100, 300, 200), (0, 0, 10, 10)))
    assert out == Image(coffee.pixels[75:225, 175:325])


def test_crop_enlargement_is_clipped_at_the_image_border(coffee):
    out = Crop().execute(coffee, objects_at(coffee, (0, 0, 100, 80)))
    assert out == Image(coffee.pixels[0:100, 0:125])


def test_crop_with_no_box_fails_naming_what_was_not_found(coffee):
    with pytest.raises(ToolError, match="^no kite found in photo.jpg; nothing to crop$"):
        Crop().execute(Image(coffee.pixels, "photo.jpg"), Objects.empty(coffee.size).looking_for("kite"))


@pytest.mark.parametrize("tool, rows, cols", [
    (CropLeftOf, slice(0, 400), slice(0, 250)),
    (CropRightOf, slice(0, 400), slice(250, 600)),
    (CropAbove, slice(0, 150), slice(0, 600)),
    (CropBelow, slice(150, 400), slice(0, 600)),
])
def test_directional_crops_split_at_the_first_box_centre(coffee, tool, rows, cols):
    box = objects_at(coffee, (200, 100, 300, 200), (500, 300, 600, 400))  # centre (250, 150)
    assert tool().execute(coffee, box) == Image(coffee.pixels[rows, cols])


@pytest.mark.parametrize("tool, rows, cols", [
    (CropLeftOf, slice(0, 400), slice(0, 300)),
    (CropRightOf, slice(0, 400), slice(300, 600)),
    (CropAbove, slice(0, 200), slice(0, 600)),    # VisProg gave the left half here
    (CropBelow, slice(200, 400), slice(0, 600)),  # and here
])
def test_directional_crops_with_no_box_fail_but_the_region_keeps_visprogs_half(coffee, tool, rows, cols):
    with pytest.raises(ToolError, match="no dog found"):
        tool().execute(coffee, Objects.empty(coffee.size).looking_for("dog"))
    assert coffee.crop(crop_region(tool.direction, None, 600, 400)) == Image(coffee.pixels[rows, cols])


def test_a_box_at_the_left_edge_still_gives_at_least_one_column(coffee):
    out = CropLeftOf().execute(coffee, objects_at(coffee, (0, 0, 0, 10)))
    assert out.size == (1, 400)


def test_objects_from_another_image_size_are_refused(coffee):
    wrong = Objects((Obj((0, 0, 10, 10), "x"),), (300, 200))
    for tool in (Crop, CropLeftOf, CropRightOf, CropAbove, CropBelow):
        with pytest.raises(ToolError, match="300x200 image.*600x400"):
            tool().execute(coffee, wrong)


def test_crops_never_modify_the_input(coffee):
    before = coffee.pixels.copy()
    for tool in (Crop, CropLeftOf, CropRightOf, CropAbove, CropBelow):
        tool().execute(coffee, objects_at(coffee, (10, 10, 50, 50)))
    assert np.array_equal(coffee.pixels, before)


def test_crop_region_and_enlarged_box_helpers():
    assert enlarged_box((10, 10, 20, 30), 100, 100) == (7.5, 5.0, 22.5, 35.0)
    assert crop_region("", None, 60, 40) == (0.0, 0.0, 60.0, 40.0)
    assert crop_region("below", None, 60, 41) == (0, 20, 60, 41)


def test_crop_tools_declare_image_and_box_inputs():
    for tool in (Crop, CropLeftOf, CropRightOf, CropAbove, CropBelow):
        assert tool.signature() == f"{tool.name}(image: Image, box: Objects) -> Image"
