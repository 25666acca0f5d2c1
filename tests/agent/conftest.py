"""Fixtures of the agent tests: a registry whose LOC is an instant stand-in, and a plain photo."""

import numpy as np
import pytest

from fakes import InstantLoc
from loupe.programs.values import Image
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings


@pytest.fixture
def registry():
    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(InstantLoc)
    return registry


@pytest.fixture
def photo():
    return Image(np.full((40, 60, 3), 128, np.uint8), "photo")
