"""What every tool instance shares: configuration, the backend choices and one cache of loaded models."""

from __future__ import annotations

from dataclasses import dataclass, field
import os
import threading
from typing import Callable, Mapping

from programs.errors import ToolUnavailable
from tools.backends import BackendSpec
from tools.injected import injected_value

AUTO = "auto"
_NOT_INJECTED = object()


@dataclass(frozen=True)
class Config:
    """Backend per tool (``{"LOC": "lite"}``; missing or ``auto`` picks the best available), device
    (``auto``, ``cpu``, ``cuda``, ``mps``) and free-form options for backends."""

    backends: Mapping[str, str] = field(default_factory=dict)
    device: str = AUTO
    options: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        """``LOUPE_BACKEND_<TOOL>=name`` chooses a backend, ``LOUPE_DEVICE`` the device."""
        environ = os.environ if environ is None else environ
        prefix = "LOUPE_BACKEND_"
        chosen = {k[len(prefix):].upper(): v for k, v in environ.items() if k.startswith(prefix) and v}
        return cls(backends=chosen, device=environ.get("LOUPE_DEVICE", AUTO) or AUTO)


class ToolContext:
    """Holds the configuration, the registered backends and the loaded models (shared, thread-safe)."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self._specs: dict[str, list[BackendSpec]] = {}
        self._shared: dict[object, object] = {}
        self._lock = threading.RLock()

    def add_backend(self, spec: BackendSpec) -> None:
        specs = self._specs.setdefault(spec.tool, [])
        specs[:] = [s for s in specs if s.name != spec.name] + [spec]
        specs.sort(key=lambda s: -s.priority)

    def backend_specs(self, tool: str) -> list[BackendSpec]:
        return list(self._specs.get(tool, []))

    def shared(self, key, factory: Callable[[], object]):
        """One instance per ``key`` for the whole context (e.g. one detector for LOC and SEG)."""
        with self._lock:
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]

    def provide(self, key, value) -> None:
        """Share an object with every run of this context's tools (per-run values: ``tools.injected``)."""
        with self._lock:
            self._shared[key] = value

    def provided(self, key, default=None):
        """The value injected for the current run under ``key`` (``tools.injected``), else the shared one."""
        value = injected_value(key, _NOT_INJECTED)
        if value is not _NOT_INJECTED:
            return value
        with self._lock:
            return self._shared.get(key, default)

    def choose_backend(self, tool: str) -> BackendSpec:
        """The configured backend of ``tool``, or the best available; ToolUnavailable says what to do."""
        specs = self.backend_specs(tool)
        wanted = self.config.backends.get(tool, AUTO)
        if wanted != AUTO:
            specs = [s for s in specs if s.name == wanted]
            if not specs:
                names = ", ".join(s.name for s in self.backend_specs(tool)) or "none registered"
                raise ToolUnavailable(f"{tool}: no backend named {wanted!r} (known: {names})")
        reasons = []
        for spec in specs:
            ok, reason = spec.availability()
            if ok:
                return spec
            reasons.append(f"{spec.name}: {reason}")
        if not reasons:
            raise ToolUnavailable(f"{tool} has no model backend installed; install one, e.g. "
                                  "pip install 'loupe[lite]' && loupe models pull")
        raise ToolUnavailable(f"{tool} cannot run here: " + "; ".join(reasons))

    def backend(self, tool: str):
        """The loaded backend object of ``tool`` (built on first use, then shared)."""
        spec = self.choose_backend(tool)
        return self.shared(("backend", spec.tool, spec.name), lambda: spec.build(self))
