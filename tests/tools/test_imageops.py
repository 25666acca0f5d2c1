import numpy as np
import pytest
from skimage import data

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.imageops import (check_objects_fit, composite, feather, gaussian_blur, greyscale,
                            objects_mask, paste_rgba, pixelate)


def square_mask(size=40, start=10, stop=30):
    mask = np.zeros((size, size), dtype=bool)
    mask[start:stop, start:stop] = True
    return mask


def test_outward_feather_is_one_inside_and_fades_to_zero_outside():
    alpha = feather(square_mask(), radius=5, outward=True)
    assert alpha.dtype == np.float32 and alpha.shape == (40, 40)
    assert np.all(alpha[10:30, 10:30] == 1.0)
    assert 0.0 < alpha[20, 8] < 1.0          # two pixels outside: part way
    assert alpha[20, 2] == 0.0 and alpha[0, 0] == 0.0
    assert alpha[20, 9] > alpha[20, 8] > alpha[20, 7]


def test_inward_feather_is_zero_outside_and_rises_to_one_inside():
    alpha = feather(square_mask(), radius=4, outward=False)
    outside = ~square_mask()
    assert np.all(alpha[outside] == 0.0)
    assert alpha[20, 20] == 1.0
    assert 0.0 < alpha[20, 10] < 1.0


@pytest.mark.parametrize("outward", [True, False])
def test_feather_of_empty_and_full_masks(outward):
    assert np.all(feather(np.zeros((5, 5), bool), 3, outward) == 0)
    assert np.all(feather(np.ones((5, 5), bool), 3, outward) == 1)


def test_greyscale_has_equal_channels_and_pillow_luma():
    pixels = data.coffee()
    grey = greyscale(pixels)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    pillow = np.asarray(Image(pixels).to_pil().convert("L")).astype(int)
    assert np.abs(grey[..., 0].astype(int) - pillow).max() <= 1


def test_composite_takes_base_at_zero_and_top_at_one():
    base = np.zeros((2, 2, 3), np.uint8)
    top = np.full((2, 2, 3), 200, np.uint8)
    alpha = np.array([[0.0, 1.0], [0.5, 0.25]], np.float32)
    out = composite(base, top, alpha)
    assert out[0, 0].tolist() == [0, 0, 0] and out[0, 1].tolist() == [200, 200, 200]
    assert out[1, 0].tolist() == [100] * 3 and out[1, 1].tolist() == [50] * 3


def test_blur_and_pixelate_keep_shape_and_flatten_detail():
    pixels = data.astronaut()
    blurred = gaussian_blur(pixels, 5)
    assert blurred.shape == pixels.shape and blurred.dtype == np.uint8
    assert np.abs(np.diff(blurred.astype(int), axis=1)).mean() < np.abs(np.diff(pixels.astype(int), axis=1)).mean()
    blocks = pixelate(pixels[:64, :64], 4)
    assert blocks.shape == (64, 64, 3)
    assert len(np.unique(blocks.reshape(-1, 3), axis=0)) <= 16


def test_paste_rgba_blends_by_alpha_and_drops_what_falls_outside():
    pixels = np.zeros((10, 10, 3), np.uint8)
    patch = np.zeros((4, 4, 4), np.uint8)
    patch[..., 0] = 255
    patch[:2, :, 3] = 255   # top half opaque red, bottom half transparent
    out = paste_rgba(pixels, patch, 8, -1)
    assert out[0, 8].tolist() == [255, 0, 0] and out[0, 9].tolist() == [255, 0, 0]
    assert out[1, 8].tolist() == [0, 0, 0]
    assert out[:, :8].sum() == 0
    assert pixels.sum() == 0   # input untouched


def test_objects_mask_uses_masks_where_present_and_boxes_otherwise():
    image = Image(np.zeros((20, 30, 3), np.uint8))
    mask = np.zeros((20, 30), bool)
    mask[0, 0] = True
    objects = Objects((Obj((0, 0, 30, 20), "a", mask=mask), Obj((10, 5, 12, 7), "b")), image.size)
    region = objects_mask(image, objects)
    assert region.sum() == 1 + 4 and region[0, 0] and region[5:7, 10:12].all()


def test_check_objects_fit_accepts_unknown_size_and_refuses_others():
    image = Image(np.zeros((20, 30, 3), np.uint8))
    check_objects_fit(image, Objects.empty(), "X")
    check_objects_fit(image, Objects.empty((30, 20)), "X")
    with pytest.raises(ToolError, match="X: the objects were found in a 20x30 image"):
        check_objects_fit(image, Objects.empty((20, 30)), "X")
