"""Pluggable model backends. A backend is declared by a ``BackendSpec`` and built lazily on first use.

A backend object implements ``run(**kwargs)`` with the inputs of the tool it serves and may implement
``run_batch(calls) -> list`` (one padded forward for many calls) and ``affordance(args) -> float``.
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib
import importlib.util
from typing import Any, Mapping, Sequence

from loupe.programs.errors import ToolUnavailable


class WeightsMissing(ToolUnavailable):
    """A backend's weights are not on this machine (what ``loupe models list`` shows as ``absent``)."""


@dataclass(frozen=True)
class BackendSpec:
    """How to build one backend of one tool.

    ``factory`` and ``ready`` are ``"module:attribute"`` paths, imported only when needed.
    ``affordance`` (optional) is a cheap ``args -> 0..1`` judge that loads no model.
    ``requires`` lists importable modules it needs; ``ready`` (optional) is called as
    ``ready(settings, spec)`` for things beyond imports (weights present, under the settings' model paths
    and options): it returns None when the backend can run, else raises ToolUnavailable saying why
    (:class:`WeightsMissing` when the weights are absent). ``priority``: higher is preferred when choosing ``auto``.
    ``model_option`` / ``default_model``: the option naming the weights (``"owlv2.model"``) and its default,
    for backends whose weights a ``ready`` looks up. ``memory``: a rough note of the memory it needs.
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
    model_option: str = ""
    default_model: str = ""
    memory: str = ""

    def availability(self, settings) -> tuple[bool, str]:
        """``(True, "")`` when it can be built here under ``settings`` (:class:`loupe.tools.settings.Settings`),
        else ``(False, what is missing and how to fix it)``."""
        missing = [m for m in self.requires if importlib.util.find_spec(m.split(".")[0]) is None]
        if missing:
            return False, f"needs the Python package(s) {', '.join(missing)}; {self.install_hint}".rstrip("; ")
        try:
            self.check_ready(settings)
        except ToolUnavailable as error:
            return False, str(error)
        return True, ""

    def check_ready(self, settings) -> None:
        """Run the ``ready`` check (imports not included): None, or ToolUnavailable / WeightsMissing."""
        if self.ready:
            resolve(self.ready)(settings, self)

    def weights(self, settings) -> str:
        """``present``/``absent`` for a backend with weights to look up (``model_option``), else ``""``."""
        if not self.model_option:
            return ""
        try:
            self.check_ready(settings)
        except WeightsMissing:
            return "absent"
        except ToolUnavailable:
            pass
        return "present"

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
