"""The model manager of the GPU tier: loads weights on first use, shares them, and keeps GPU memory in budget.

* **One instance per weights.** ``manager.use(key, build)`` returns the same object to every tool asking
  for the same ``key`` (e.g. ``("clip", "openai/clip-vit-base-patch32")`` for SELECT and CLASSIFY).
* **Device and dtype.** ``auto`` picks ``cuda`` > ``mps`` > ``cpu`` (``tools.devices.pick_device``) and
  ``bfloat16`` on a CUDA GPU that supports it (else ``float16``), ``float16`` on MPS, ``float32`` on CPU.
  Config: ``LOUPE_DEVICE``, ``LOUPE_DTYPE`` (``fp32``/``fp16``/``bf16``) or ``Config.options["dtype"]``.
* **Memory budget.** Sizes are measured as parameters + buffers x bytes per element. When loading or
  re-activating a model would pass the budget (``LOUPE_GPU_BUDGET_GB``; default 85% of the GPU's memory,
  no limit on CPU), the least recently used models not in use are evicted: moved to CPU (``evict=cpu``,
  the default on a GPU; moved back on next use) or dropped (``evict=drop``, always on CPU; rebuilt on use).
* **Hub id or local path, offline.** :func:`weights_present` asks the Hugging Face cache without network;
  :func:`missing_weights` is the message that says how to fetch them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
import os
from pathlib import Path
import threading
import time
from typing import Any, Callable, Iterator

from programs.errors import ToolUnavailable
from tools.devices import pick_device

MANAGER_KEY = ("model-manager",)
_DTYPES = {"fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16",
           "half": "float16", "bf16": "bfloat16", "bfloat16": "bfloat16"}


def option(context, key: str, default=None):
    """A backend option: ``Config.options[key]``, else env ``LOUPE_<KEY>`` (dots become ``_``), else default."""
    options = getattr(getattr(context, "config", None), "options", {}) or {}
    if key in options:
        return options[key]
    return os.environ.get("LOUPE_" + key.upper().replace(".", "_").replace("-", "_"), default)


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


def weights_present(model_id: str, filename: str = "config.json") -> bool:
    """True when ``model_id`` is a local folder/file, or ``filename`` of that hub repo is in the HF cache.

    Never touches the network.
    """
    if not model_id:
        return False
    if Path(model_id).expanduser().exists():
        return True
    if model_id.startswith((".", "/", "~")) or model_id.count("/") > 1:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model_id, filename)
    except Exception:  # a malformed id is simply "not present"
        return False
    return isinstance(found, str)


def offline() -> bool:
    """Whether the hub is off limits (``HF_HUB_OFFLINE=1`` now, or when huggingface_hub was imported)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def missing_weights(model_id: str, option_name: str) -> str:
    """What to do when the weights of ``model_id`` are not here (names the download and the config)."""
    where = " (HF_HUB_OFFLINE=1 is set, so nothing is downloaded)" if offline() else ""
    return (f"the weights of {model_id!r} are not on this machine{where}; fetch them on a machine with "
            f"network with `hf download {model_id}` (older hubs: `huggingface-cli download {model_id}`) and "
            f"copy the HF cache here, or point LOUPE_{option_name.upper().replace('.', '_')} at a local folder")


def gpu_present() -> bool:
    """Whether a CUDA or MPS device is usable (imports torch; loads nothing)."""
    return pick_device("auto") != "cpu"


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
            budget = option(context, "gpu_budget_gb")
            return cls(device=context.config.device, dtype=str(option(context, "dtype", "auto")),
                       budget_bytes=int(float(budget) * 2**30) if budget else None,
                       evict=option(context, "evict"))
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


def load_pretrained(loader, model_id: str, option_name: str, **kwargs):
    """``loader.from_pretrained(model_id, **kwargs)``; a missing download becomes a ToolUnavailable that
    says how to fetch the weights (the hub's own error is chained)."""
    if offline():
        if not (weights_present(model_id) or weights_present(model_id, "model_index.json")):
            raise ToolUnavailable(missing_weights(model_id, option_name))
        kwargs.setdefault("local_files_only", True)
    try:
        return loader.from_pretrained(model_id, **kwargs)
    except (OSError, ValueError) as error:
        if weights_present(model_id) or "does not appear to have" in str(error):
            raise
        raise ToolUnavailable(missing_weights(model_id, option_name)) from error


def tool_rows(registry) -> list[dict]:
    """One row per tool for ``loupe tools --json`` and the service's ``/v1/tools``: name, signature,
    description, whether it needs a model, and each backend with whether it can run here and why not."""
    from tools.model_tool import ModelTool

    rows = []
    for name in registry.names():
        tool_class = registry.tool_class(name)
        backends = []
        for spec in registry.context.backend_specs(name):
            ok, reason = spec.availability()
            backends.append({"name": spec.name, "available": ok, "reason": reason})
        rows.append({"name": name, "signature": tool_class.signature(), "description": tool_class.description,
                     "needs_model": bool(backends) or issubclass(tool_class, ModelTool), "backends": backends})
    return rows


def backend_rows(registry) -> list[dict]:
    """One row per registered backend for ``loupe models list``: availability, weights, memory.

    ``weights`` is ``present``/``absent`` for GPU-tier backends (looked up without network), ``""``
    otherwise; ``memory`` is the GPU-tier's rough need (``""`` for others).
    """
    try:
        from tools.gpu.specs import MEMORY
    except ImportError:
        MEMORY = {}
    rows = []
    for name in registry.names():
        for spec in registry.context.backend_specs(name):
            ok, reason = spec.availability()
            memory = MEMORY.get((spec.tool, spec.name), "")
            weights = ""
            if memory and spec.name != "vlm":
                weights = "absent" if "not on this machine" in reason or "are not in" in reason else "present"
            rows.append({"tool": name, "backend": spec.name, "available": ok, "reason": reason,
                         "gpu_recommended": spec.gpu_recommended, "priority": spec.priority,
                         "weights": weights, "memory": memory})
    return rows
