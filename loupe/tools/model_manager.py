"""The model manager of the GPU tier: loads weights on first use, shares them, and keeps GPU memory in budget.

* **One instance per weights.** ``manager.use(key, build)`` returns the same object to every tool asking
  for the same ``key`` (e.g. ``("clip", "openai/clip-vit-base-patch32")`` for SELECT and CLASSIFY).
* **Device and dtype.** ``auto`` picks ``cuda`` > ``mps`` > ``cpu`` (``loupe.tools.devices.pick_device``) and
  ``bfloat16`` on a CUDA GPU that supports it (else ``float16``), ``float16`` on MPS, ``float32`` on CPU.
  Settings: ``device`` and ``dtype`` (``fp32``/``fp16``/``bf16``; env ``LOUPE_DEVICE``, ``LOUPE_DTYPE``).
* **Memory budget.** Sizes are measured as parameters + buffers x bytes per element. When loading or
  re-activating a model would pass the budget (``Settings.gpu_budget_gb``, env ``LOUPE_GPU_BUDGET_GB``;
  default 85% of the GPU's memory, no limit on CPU), the least recently used models not in use are evicted: moved to CPU (``evict=cpu``,
  the default on a GPU; moved back on next use) or dropped (``evict=drop``, always on CPU; rebuilt on use).

Finding weights (hub cache, offline rules) is :mod:`loupe.tools.weights`; the tables of ``loupe tools`` and
``loupe models list`` are :mod:`loupe.tools.tool_table`.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
import threading
import time
from typing import Any, Callable, Iterator

from loupe.tools.devices import pick_device

MANAGER_KEY = ("model-manager",)
_DTYPES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16",
           "half": "float16", "bf16": "bfloat16", "bfloat16": "bfloat16"}


def pick_dtype(device: str, wanted: str = "auto"):
    """The torch dtype for ``device``: ``wanted`` when given (fp32/fp16/bf16), else the rule above."""
    import torch

    if wanted and wanted != "auto":
        if wanted not in _DTYPES:
            raise ValueError(f"unknown dtype {wanted!r}; use one of auto, fp32, fp16, bf16")
        return getattr(torch, _DTYPES[wanted])
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32


def module_bytes(value) -> int:
    """Bytes of the parameters and buffers of every ``torch.nn.Module`` in ``value`` (see :func:`modules_of`)."""
    total = 0
    for module in modules_of(value):
        for tensor in list(module.parameters()) + list(module.buffers()):
            total += tensor.numel() * tensor.element_size()
    return total


def modules_of(value) -> list:
    """The torch modules a loaded value holds: itself, its ``.model``, or its ``.modules_for_manager()``."""
    import torch

    if isinstance(value, torch.nn.Module):
        return [value]
    if hasattr(value, "modules_for_manager"):
        return list(value.modules_for_manager())
    inner = getattr(value, "model", None)
    return [inner] if isinstance(inner, torch.nn.Module) else []


@dataclass
class _Entry:
    value: Any
    nbytes: int
    on_device: bool = True
    pins: int = 0
    last_used: float = field(default_factory=time.monotonic)


class ModelManager:
    """Loaded models of one tool context, keyed by what weights they hold. Thread-safe.

    ``budget_bytes`` None means no limit. ``evict``: ``"cpu"`` (offload) or ``"drop"``.
    """

    def __init__(self, device: str = "auto", dtype: str = "auto", budget_bytes: int | None = None,
                 evict: str | None = None):
        self.device = pick_device(device)
        self.dtype = pick_dtype(self.device, dtype)
        if evict not in (None, "cpu", "drop"):
            raise ValueError(f"evict must be 'cpu' or 'drop'; got {evict!r}")
        self.evict = evict or ("cpu" if self.device != "cpu" else "drop")
        self.budget_bytes = budget_bytes if budget_bytes is not None else _default_budget(self.device)
        self._entries: dict[Any, _Entry] = {}
        self._lock = threading.RLock()
        self.loads = 0  # how many times a builder ran (tests and the benchmark read it)

    @classmethod
    def of(cls, context) -> "ModelManager":
        """The one manager of ``context`` (made on first use from its config)."""
        def make():
            settings = context.settings
            budget = settings.gpu_budget_gb
            return cls(device=settings.device, dtype=settings.dtype,
                       budget_bytes=int(budget * 2**30) if budget else None, evict=settings.evict)
        return context.shared(MANAGER_KEY, make)

    @contextmanager
    def use(self, key, build: Callable[[str, Any], Any]) -> Iterator[Any]:
        """The model for ``key``, built by ``build(device, dtype)`` on first use; pinned (never evicted)
        while the ``with`` block runs."""
        entry = self._acquire(key, build)
        try:
            yield entry.value
        finally:
            with self._lock:
                entry.pins -= 1

    def get(self, key, build: Callable[[str, Any], Any]):
        """Like :meth:`use` without pinning (for callers that keep no reference across evictions)."""
        with self.use(key, build) as value:
            return value

    def _acquire(self, key, build) -> _Entry:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                value = build(self.device, self.dtype)
                self.loads += 1
                entry = _Entry(value, module_bytes(value))
                self._make_room(entry.nbytes, keep=key)
                self._entries[key] = entry
            elif not entry.on_device:
                self._make_room(entry.nbytes, keep=key)
                _move(entry.value, self.device)
                entry.on_device = True
            entry.pins += 1
            entry.last_used = time.monotonic()
            return entry

    def _make_room(self, nbytes: int, keep) -> None:
        if self.budget_bytes is None:
            return
        victims = sorted((e.last_used, k) for k, e in self._entries.items()
                         if k != keep and e.on_device and e.pins == 0)
        for _, victim in victims:
            if self.resident_bytes() + nbytes <= self.budget_bytes:
                return
            self._evict(victim)

    def _evict(self, key) -> None:
        entry = self._entries[key]
        if self.evict == "drop":
            del self._entries[key]
        else:
            _move(entry.value, "cpu")
            entry.on_device = False
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    def resident_bytes(self) -> int:
        """Bytes of the models now on the compute device."""
        with self._lock:
            return sum(e.nbytes for e in self._entries.values() if e.on_device)

    def loaded(self) -> dict:
        """``{key: {"bytes": n, "on_device": bool}}`` of every model held."""
        with self._lock:
            return {k: {"bytes": e.nbytes, "on_device": e.on_device} for k, e in self._entries.items()}

    def __contains__(self, key) -> bool:
        return key in self._entries


def _move(value, device: str) -> None:
    for module in modules_of(value):
        module.to(device)
    if hasattr(value, "device"):
        try:
            value.device = device
        except AttributeError:
            pass


def _default_budget(device: str) -> int | None:
    if not device.startswith("cuda"):
        return None
    import torch

    return int(0.85 * torch.cuda.get_device_properties(torch.device(device)).total_memory)
