"""Grounding DINO LOC on a tiny random model (code paths, not accuracy)."""

import pytest

from loupe.tools.gpu.grounding_dino import GroundingDinoLocator
import gpu_tiny


@pytest.fixture(scope="module")
def gdino_dir(tmp_path_factory):
    return gpu_tiny.save_grounding_dino(tmp_path_factory.mktemp("gdino"))


def test_padded_batch_gives_pixel_boxes_of_each_original_image(gdino_dir, wide_image, tall_image):
    context = gpu_tiny.context_with(grounding_dino__model=str(gdino_dir), grounding_dino__threshold=0.0,
                                    grounding_dino__text_threshold=0.0)
    wide, tall = GroundingDinoLocator(context).run_batch([{"image": wide_image, "object": "dog"},
                                                         {"image": tall_image, "object": "red cat"}])
    for found, image, label in ((wide, wide_image, "dog"), (tall, tall_image, "red cat")):
        assert len(found) > 0 and found.image_size == image.size and set(found.labels) == {label}
        boxes = found.boxes
        assert (boxes >= 0).all() and (boxes[:, 2] <= image.width).all() and (boxes[:, 3] <= image.height).all()
