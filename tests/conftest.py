import os
import sys
from pathlib import Path

import numpy as np
import pytest

SUPPORT = Path(__file__).resolve().parent / "support"
sys.path.insert(0, str(SUPPORT))  # stand-in tools shared by tests: fakes.py, cli_plugin.py


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep tests out of the user's config; the model cache stays shared (pulled once, read-only)."""
    monkeypatch.setenv("LOUPE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    for key in [k for k in os.environ if k.startswith("LOUPE_BACKEND_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def small_image():
    from programs.values import Image

    pixels = np.zeros((60, 80, 3), dtype=np.uint8)
    pixels[10:30, 20:50] = (200, 30, 30)
    return Image(pixels, "small.png")
