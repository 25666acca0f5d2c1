"""Fixtures for the program-language tests: the tool registry and the VisProg-syntax test programs."""

from __future__ import annotations

import pytest
from loupe.tools.settings import Settings


@pytest.fixture(scope="session")
def registry():
    from loupe.tools.registry import default_registry

    return default_registry(Settings.from_env(), plugins=False)

