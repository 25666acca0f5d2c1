"""What every lite backend shares: the lite models of its context and the batch protocol."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from loupe.programs.values import Image
from loupe.tools.backends import BatchBackend, each  # noqa: F401  (each: used by the lite backends)
from loupe.tools.lite.vision import lite_vision


class LiteBackend(BatchBackend):
    """Subclasses implement ``run_batch(calls) -> list`` (a result or an exception per call)."""

    def __init__(self, context):
        self.context = context
        self.vision = lite_vision(context)


def images_of(calls: Sequence[Mapping[str, Any]], key: str = "image") -> list[Image]:
    return [call[key] for call in calls]
