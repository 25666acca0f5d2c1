"""Fixtures for the program-language tests: the tool registry and the VisProg-syntax test programs."""

from __future__ import annotations

import pytest


def _registry():
    try:
        from tools.registry import default_registry

        return default_registry(plugins=False)
    except Exception:  # some tool files may still be missing: fall back to the ones that import
        return _fallback_registry()


def _fallback_registry():
    import importlib

    from tools.base import Tool
    from tools.registry import ToolRegistry

    registry = ToolRegistry()
    for module in ("loc", "count", "evaluate", "result", "vqa", "facedet", "listing", "classify", "select",
                   "seg", "replace", "crop", "tag", "emoji", "colorpop", "bgblur", "blur", "caption", "ocr"):
        try:
            found = importlib.import_module(f"tools.{module}")
        except Exception:
            continue
        for value in vars(found).values():
            if isinstance(value, type) and issubclass(value, Tool) and value.name and value.__module__ == found.__name__:
                registry.register(value)
    return registry


@pytest.fixture(scope="session")
def registry():
    return _registry()

