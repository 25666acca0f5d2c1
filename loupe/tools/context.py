"""What every tool instance shares: the settings, the backend choices and one cache of loaded models."""

from __future__ import annotations

import threading
from typing import Callable

from loupe.programs.errors import ToolUnavailable
from loupe.tools.backends import BackendSpec
from loupe.tools.injected import injected_value
from loupe.tools.settings import AUTO, Settings
from loupe.tools.install import pip_extra

_NOT_INJECTED = object()


class ToolContext:
    """Holds the settings, the registered backends and the loaded models (shared, thread-safe).

    ``settings`` default to ``Settings()`` (the defaults; nothing read from the environment)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings if settings is not None else Settings()
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
        """Share an object with every run of this context's tools (per-run values: ``loupe.tools.injected``)."""
        with self._lock:
            self._shared[key] = value

    def provided(self, key, default=None):
        """The value injected for the current run under ``key`` (``loupe.tools.injected``), else the shared one."""
        value = injected_value(key, _NOT_INJECTED)
        if value is not _NOT_INJECTED:
            return value
        with self._lock:
            return self._shared.get(key, default)

    def choose_backend(self, tool: str) -> BackendSpec:
        """The configured backend of ``tool``, or the best available; ToolUnavailable says what to do."""
        specs = self.backend_specs(tool)
        wanted = self.settings.backend_for(tool)
        if wanted != AUTO:
            specs = [s for s in specs if s.name == wanted]
            if not specs:
                names = ", ".join(s.name for s in self.backend_specs(tool)) or "none registered"
                raise ToolUnavailable(f"{tool}: no backend named {wanted!r} (known: {names})")
        reasons = []
        for spec in specs:
            ok, reason = spec.availability(self.settings)
            if ok:
                return spec
            reasons.append(f"{spec.name}: {reason}")
        if not reasons:
            raise ToolUnavailable(f"{tool} has no model backend installed; install one, e.g. "
                                  f"{pip_extra('lite')} && loupe models pull")
        raise ToolUnavailable(f"{tool} cannot run here: " + "; ".join(reasons))

    def backend(self, tool: str):
        """The loaded backend object of ``tool`` (built on first use, then shared)."""
        spec = self.choose_backend(tool)
        return self.shared(("backend", spec.tool, spec.name), lambda: spec.build(self))
