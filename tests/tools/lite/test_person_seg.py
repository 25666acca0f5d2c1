"""PersonSegmenter on real photos (needs the lite pack: `loupe models pull`)."""

from pathlib import Path

import numpy as np
import pytest

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image
from loupe.tools.lite.person_seg import PersonSegmenter, person_probability

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
MAN_IN_PERSON_JPG = (191, 105, 273, 381)  # the standing man, x1 y1 x2 y2 in the 640x424 photo


@pytest.fixture(scope="module")
def segmenter():
    from loupe.tools.lite.pack import lite_model_path

    try:
        lite_model_path("selfie")
    except ToolUnavailable as missing:
        pytest.skip(f"lite model pack not installed; run `loupe models pull` ({missing})")
    return PersonSegmenter()


def test_two_logits_become_a_probability():
    logits = np.array([[[0.0, 0.0], [-5.0, 5.0]]])
    np.testing.assert_allclose(person_probability(logits, True), [[0.5, 1 / (1 + np.exp(-10))]])


def test_person_mask_covers_the_man_and_not_the_field(segmenter):
    from PIL import Image as PILImage

    image = Image.from_pil(PILImage.open(PHOTOS / "person.jpg"))
    probability = segmenter.segment([image])[0]
    assert probability.shape == (424, 640) and probability.dtype == np.float32
    assert 0.0 <= probability.min() and probability.max() <= 1.0
    x1, y1, x2, y2 = MAN_IN_PERSON_JPG
    man = np.zeros(probability.shape, bool)
    man[y1:y2, x1:x2] = True
    assert (probability[man] > 0.5).mean() > 0.45  # the box also holds grass between his legs
    assert (probability[~man] > 0.5).mean() < 0.02
    core = probability[150:330, 205:255]
    assert (core > 0.5).mean() > 0.9


def test_each_image_gets_its_own_size(segmenter):
    from skimage import data

    maps = segmenter.segment([Image(data.astronaut()), Image(data.rocket())])
    assert [m.shape for m in maps] == [(512, 512), (427, 640)]
    assert (maps[0][100:500, 50:300] > 0.5).mean() > 0.8  # the astronaut's head and body
    assert (maps[1] > 0.5).mean() < 0.01  # no one on the launch pad
