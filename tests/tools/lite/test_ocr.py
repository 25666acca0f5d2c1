"""TextReader (RapidOCR with the models bundled in its wheel) on real images."""

import socket

import numpy as np
import pytest

from programs.values import Image
from tools.lite.ocr import TextReader, text_objects

pytest.importorskip("rapidocr", reason="text reading needs `pip install rapidocr onnxruntime`")


@pytest.fixture(scope="module")
def page():
    from skimage import data

    return Image(np.repeat(data.page()[..., None], 3, axis=2), "page")


def test_polygons_become_boxes_and_low_scores_are_dropped():
    polygons = [[[10, 5], [50, 7], [50, 20], [9, 18]], [[0, 0], [5, 0], [5, 5], [0, 5]]]
    found = text_objects(polygons, ["hello", "noise"], [0.9, 0.2], 0.5, (100, 50))
    assert [(o.text, o.box, o.label) for o in found] == [("hello", (9, 5, 50, 20), "text")]


def test_page_text_is_read_offline(page, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f"OCR tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    found = TextReader().read([page])[0]
    text = " ".join(o.text for o in found)
    for word in ("Region-based", "segmentation", "markers", "background", "histogram"):
        assert word in text
    first = found[0]
    assert first.text == "Region-based segmentation"
    assert first.box[1] < 15 and first.box[3] < 45 and 0 <= first.score <= 1


def test_photo_without_text_gives_no_lines():
    from skimage import data

    found = TextReader().read([Image(data.rocket())])[0]
    assert len(found) == 0 and found.image_size == (640, 427)
