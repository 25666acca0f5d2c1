"""What every GPU-tier backend shares: its options, the model manager, and the batch protocol.

A backend's ``run_batch(calls)`` returns one result or one exception per call (kwargs = the tool's
inputs); ``run(**kwargs)`` is one call of it. Models come from the context's :class:`ModelManager`
(built on first use, shared by key, evicted under memory pressure), never loaded at construction.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from loupe.tools.backends import BatchBackend, each  # noqa: F401  (each: used by the GPU backends)
from loupe.tools.model_manager import ModelManager


class GpuBackend(BatchBackend):
    """Base of the GPU backends. Subclasses set ``option_name`` / ``default_model`` and ``run_batch``."""

    option_name: str = ""     # e.g. "owlv2.model" -> Settings.options["owlv2.model"] or LOUPE_OWLV2_MODEL
    default_model: str = ""
    processor_class: str = ""  # transformers class names for the default ``_build``, e.g. "Owlv2Processor"
    model_class: str = ""

    def __init__(self, context):
        self.context = context
        self.manager = ModelManager.of(context)

    @property
    def model_id(self) -> str:
        return str(self.option(self.option_name, self.default_model)) if self.option_name else ""

    @property
    def settings(self):
        return self.context.settings

    def option(self, key: str, default=None):
        """A backend option from the context's settings (see :meth:`loupe.tools.settings.Settings.option`)."""
        return self.settings.option(key, default)

    def _build(self, device, dtype) -> "Loaded":
        """A transformers processor and model (``processor_class``/``model_class``) from ``model_id``."""
        import transformers

        from loupe.tools.weights import load_pretrained

        processor = load_pretrained(self.settings, getattr(transformers, self.processor_class), self.model_id,
                                    self.option_name)
        model = load_pretrained(self.settings, getattr(transformers, self.model_class), self.model_id,
                                self.option_name, dtype=dtype)
        return Loaded(model.to(device).eval(), processor, device, dtype)

    def model(self, kind: str, build: Callable[[str, Any], Any]):
        """The shared model ``(kind, model_id)``, pinned for a ``with`` block (see ModelManager.use)."""
        return self.manager.use((kind, self.model_id), build)



def guarded(calls: Sequence[Mapping[str, Any]], batched) -> list:
    """``batched(calls)`` (one forward for all); if it fails, the same error is each call's result."""
    try:
        return list(batched(calls))
    except Exception as error:
        return [error for _ in calls]


def chunks(items: Sequence, size: int):
    """``items`` in consecutive slices of at most ``size`` (the batch size limits GPU memory)."""
    size = max(1, int(size))
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_device(batch: Mapping[str, Any], device: str, dtype) -> dict:
    """Processor outputs moved to ``device``; floating tensors (pixels) cast to the model's ``dtype``."""
    moved = {}
    for key, value in batch.items():
        if hasattr(value, "to"):
            value = value.to(device)
            if value.is_floating_point():
                value = value.to(dtype)
        moved[key] = value
    return moved


class Loaded:
    """A model with its processor, device and dtype (what the manager holds, measures and moves)."""

    def __init__(self, model, processor, device: str, dtype):
        self.model, self.processor, self.device, self.dtype = model, processor, device, dtype
