"""Pluggable model backends. A backend is declared by a ``BackendSpec`` and built lazily on first use.

A backend object implements ``run(**kwargs)`` with the inputs of the tool it serves and may implement
``run_batch(calls) -> list`` (one padded forward for many calls) and ``affordance(args) -> float``.
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib
import importlib.util
from typing import Any, Mapping, Sequence


@dataclass(frozen=True)
class BackendSpec:
    """How to build one backend of one tool.

    ``factory`` and ``ready`` are ``"module:attribute"`` paths, imported only when needed.
    ``affordance`` (optional) is a cheap ``args -> 0..1`` judge that loads no model.
    ``requires`` lists importable modules it needs; ``ready`` (optional) returns ``(ok, reason)`` for
    things beyond imports (weights present). ``priority``: higher is preferred when choosing ``auto``.
    """

    tool: str
    name: str
    factory: str
    requires: tuple[str, ...] = ()
    install_hint: str = ""
    ready: str = ""
    affordance: str = ""
    priority: int = 0
    gpu_recommended: bool = False

    def availability(self) -> tuple[bool, str]:
        """``(True, "")`` when it can be built here, else ``(False, what is missing and how to fix it)``."""
        missing = [m for m in self.requires if importlib.util.find_spec(m.split(".")[0]) is None]
        if missing:
            return False, f"needs the Python package(s) {', '.join(missing)}; {self.install_hint}".rstrip("; ")
        if self.ready:
            ok, reason = resolve(self.ready)()
            if not ok:
                return False, reason
        return True, ""

    def affordance_of(self, args) -> float:
        return float(resolve(self.affordance)(args)) if self.affordance else 1.0

    def build(self, context):
        return resolve(self.factory)(context)


def resolve(path: str):
    """Import ``"package.module:attribute"``."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


class BatchBackend:
    """Base of backends with the batch protocol: ``run_batch(calls)`` returns one result or one exception
    per call (kwargs = the tool's inputs); ``run(**kwargs)`` is one call of it."""

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
