"""Fixtures of the GPU-tier tests; the tiny model builders live in ``gpu_tiny.py`` (same folder).

Everything runs offline on CPU with random weights: the tests check code paths, not accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loupe.programs.values import Image  # noqa: E402


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """No hub access in these tests: a download attempt fails at once instead of waiting on the network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("YOLO_OFFLINE", "1")


@pytest.fixture
def wide_image():
    """A non-square 96x48 (W x H) image with a bright block, so resize/pad bugs show in the boxes."""
    pixels = np.full((48, 96, 3), 40, dtype=np.uint8)
    pixels[8:40, 50:90] = (220, 200, 30)
    return Image(pixels, "wide.png")


@pytest.fixture
def tall_image():
    """A non-square 40x80 (W x H) image."""
    pixels = np.full((80, 40, 3), 90, dtype=np.uint8)
    pixels[10:30, 5:35] = (30, 60, 200)
    return Image(pixels, "tall.png")
