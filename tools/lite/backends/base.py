"""What every lite backend shares: the lite models of its context and the batch protocol."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from programs.values import Image
from tools.lite.vision import lite_vision


class LiteBackend:
    """Subclasses implement ``run_batch(calls) -> list`` (a result or an exception per call)."""

    def __init__(self, context):
        self.context = context
        self.vision = lite_vision(context)

    def run(self, **kwargs):
        result = self.run_batch([kwargs])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def run_batch(self, calls: Sequence[Mapping[str, Any]]) -> list:
        raise NotImplementedError


def each(calls: Sequence[Mapping[str, Any]], answer) -> list:
    """``answer(call)`` for each call; an exception becomes that call's result, not the batch's."""
    results = []
    for call in calls:
        try:
            results.append(answer(call))
        except Exception as error:
            results.append(error)
    return results


def images_of(calls: Sequence[Mapping[str, Any]], key: str = "image") -> list[Image]:
    return [call[key] for call in calls]
