"""OWLv2 LOC on a tiny random model: real loading, batching and box coordinates (code paths, not accuracy)."""

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.tools.gpu.detections import from_owlv2
from loupe.tools.gpu.owlv2 import Owlv2Locator
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
import gpu_tiny


@pytest.fixture(scope="module")
def owlv2_dir(tmp_path_factory):
    return gpu_tiny.save_owlv2(tmp_path_factory.mktemp("owlv2"))


def test_boxes_of_the_padded_square_map_to_original_pixels(wide_image):
    # OWLv2 pads a 96x48 image to 96x96: cxcywh (0.5, 0.25, 0.5, 0.5) of that square is x 24..72, y 0..48
    found = from_owlv2(np.array([5.0]), np.array([[0.5, 0.25, 0.5, 0.5]]), wide_image, "dog", threshold=0.1)
    assert found.boxes.tolist() == [[24.0, 0.0, 72.0, 48.0]]
    assert found.image_size == (96, 48)


def test_batch_of_non_square_images_gives_boxes_inside_each_image(owlv2_dir, wide_image, tall_image):
    """Through the LOC tool (which answers region words and checks names itself) on the owlv2 backend."""
    settings = Settings(device="cpu", backends={"LOC": "owlv2"},
                        options={"owlv2.model": str(owlv2_dir), "owlv2.threshold": -1})
    loc = default_registry(settings, plugins=False).tool("LOC")
    wide, tall, left, bad = loc.execute_batch([
        {"image": wide_image, "object": "dog"}, {"image": tall_image, "object": "red cat"},
        {"image": wide_image, "object": "LEFT"}, {"image": wide_image, "object": " "}])
    # the tiny model's boxes are the cells of a 4x4 grid over the padded square (cell = max(W, H) / 4):
    # 96x48 pads to 96x96 (cells 24 px) and keeps 4 columns x 2 rows; 40x80 pads to 80x80 and keeps 2 x 4
    for found, image in ((wide, wide_image), (tall, tall_image)):
        assert len(found) == 8 and found.image_size == image.size
        boxes = found.boxes
        cell = max(image.size) / 4
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= image.width).all()
        assert (boxes[:, 1] >= 0).all() and (boxes[:, 3] <= image.height).all()
        assert (np.isclose(boxes[:, 2] - boxes[:, 0], cell, atol=0.1) | (boxes[:, 2] == image.width)).all()
    assert set(wide.labels) == {"dog"} and set(tall.labels) == {"red cat"}
    assert left.boxes.tolist() == [[0, 0, 48, 48]]
    assert isinstance(bad, ToolError) and "object name" in str(bad)
    assert loc.backend().manager.loads == 1


def test_missing_weights_offline_say_how_to_fetch(wide_image):
    from loupe.programs.errors import ToolUnavailable

    backend = Owlv2Locator(gpu_tiny.context_with(owlv2__model="nobody/not-a-model"))
    result = backend.run_batch([{"image": wide_image, "object": "dog"}])[0]
    assert isinstance(result, ToolUnavailable)
    assert "hf download nobody/not-a-model" in str(result) and "LOUPE_OWLV2_MODEL" in str(result)
