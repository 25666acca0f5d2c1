"""The tables ``loupe tools`` / ``GET /v1/tools`` and ``loupe models list`` print: every tool with its
signature and backends, every backend with whether it can run here and why not."""

from __future__ import annotations


def tool_rows(registry) -> list[dict]:
    """One row per tool for ``loupe tools --json`` and the service's ``/v1/tools``: name, signature,
    description, whether it needs a model, and each backend with whether it can run here and why not."""
    from loupe.tools.model_tool import ModelTool

    rows = []
    for name in registry.names():
        tool_class = registry.tool_class(name)
        backends = []
        for spec in registry.context.backend_specs(name):
            ok, reason = spec.availability(registry.context.settings)
            backends.append({"name": spec.name, "available": ok, "reason": reason})
        rows.append({"name": name, "signature": tool_class.signature(), "description": tool_class.description,
                     "needs_model": bool(backends) or issubclass(tool_class, ModelTool), "backends": backends})
    return rows


def backend_rows(registry) -> list[dict]:
    """One row per registered backend for ``loupe models list``: availability, weights, memory.

    ``weights`` is ``present``/``absent`` for backends with weights to look up (the GPU tier; looked up
    without network, absent when ``ready`` raises WeightsMissing), ``""`` otherwise; ``memory`` is the
    backend's rough need (``""`` when it declares none).
    """
    settings = registry.context.settings
    rows = []
    for name in registry.names():
        for spec in registry.context.backend_specs(name):
            ok, reason = spec.availability(settings)
            rows.append({"tool": name, "backend": spec.name, "available": ok, "reason": reason,
                         "gpu_recommended": spec.gpu_recommended, "priority": spec.priority,
                         "weights": spec.weights(settings), "memory": spec.memory})
    return rows
