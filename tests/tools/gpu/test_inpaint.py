"""REPLACE with a tiny random Stable Diffusion inpainting pipeline. Code paths, not image quality."""


import numpy as np
import pytest

from loupe.programs.values import Obj, Objects
from loupe.tools.gpu.inpaint import SdInpainter, dilated, working_size
import gpu_tiny


def test_mask_helpers():
    mask = np.zeros((20, 30), bool)
    mask[10, 10] = True
    assert dilated(mask, 2).sum() > 1 and dilated(mask, 2)[10, 12] and not dilated(mask, 2)[10, 14]
    assert working_size(96, 48, 512) == (512, 256) and working_size(100, 33, 64) == (64, 24)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return gpu_tiny.save_sd_inpaint(tmp_path_factory.mktemp("sd"))


def test_inpainting_changes_only_near_the_objects_and_is_seeded(sd_dir, wide_image):
    backend = SdInpainter(gpu_tiny.context_with(inpaint__model=str(sd_dir), inpaint__steps=2, inpaint__size=32))
    objects = Objects((Obj((50, 8, 90, 40), "thing"),), wide_image.size)
    first = backend.run(image=wide_image, object=objects, prompt="a teapot")
    again = backend.run(image=wide_image, object=objects, prompt="a teapot")
    assert first.size == wide_image.size and first == again          # same seed, same image
    changed = (first.pixels != wide_image.pixels).any(axis=2)
    assert changed[8:40, 50:90].any()
    assert not changed[:, :40].any()                                 # far from the (dilated, feathered) region
    assert wide_image.pixels[20, 60].tolist() == [220, 200, 30]      # the input was not modified
    assert backend.run(image=wide_image, object=Objects.empty(wide_image.size), prompt="x") is wide_image
