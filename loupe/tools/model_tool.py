"""Base of the tools that run a model: the declaration lives in the tool, the work in its backend."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from loupe.programs.errors import ToolUnavailable
from loupe.tools.backends import resolve
from loupe.tools.base import Tool


class ModelTool(Tool):
    """A tool whose ``execute`` is its backend's ``run`` (see ``loupe.tools.backends``)."""

    abstract = True

    def backend(self):
        return self.context.backend(self.name)

    def backend_name(self) -> str:
        try:
            return self.context.choose_backend(self.name).name
        except ToolUnavailable:
            return "missing"

    def prepare(self, call: Mapping[str, Any]) -> None:
        """Checks of one call before any backend runs; raise (a ToolError) to fail that call alone."""

    def answer(self, call: Mapping[str, Any]):
        """A result the tool gives itself, with no backend (e.g. LOC's region words); None: ask the backend."""
        return None

    def finish(self, call: Mapping[str, Any], result):
        """The tool's result from the backend's (e.g. found objects labelled with what was sought)."""
        return result

    def execute(self, **kwargs):
        self.prepare(kwargs)
        own = self.answer(kwargs)
        return self.finish(kwargs, own if own is not None else self.backend().run(**kwargs))

    def batches(self) -> bool:
        """Whether the chosen backend's class has ``run_batch`` (asked without loading any model)."""
        try:
            return hasattr(resolve(self.context.choose_backend(self.name).factory), "run_batch")
        except ToolUnavailable:
            return False

    def execute_batch(self, calls: Sequence[Mapping[str, Any]]) -> list:
        results: list = [self._prepared(call) for call in calls]
        for i, call in enumerate(calls):
            if results[i] is None:
                own = self.answer(call)
                results[i] = None if own is None else self.finish(call, own)
        ready = [i for i, result in enumerate(results) if result is None]
        if ready:
            for i, result in zip(ready, self._run_backend([calls[i] for i in ready])):
                results[i] = result if isinstance(result, BaseException) else self.finish(calls[i], result)
        return results

    def _prepared(self, call) -> Exception | None:
        try:
            self.prepare(call)
        except Exception as error:  # this call's failure is its own
            return error
        return None

    def _run_backend(self, calls: list) -> list:
        try:
            backend = self.backend()
        except ToolUnavailable as error:
            return [error for _ in calls]
        if hasattr(backend, "run_batch"):
            return backend.run_batch(calls)
        return super().execute_batch(calls)

    def affordance(self, args: Mapping[str, Any]) -> float:
        try:
            spec = self.context.choose_backend(self.name)
        except ToolUnavailable:
            return 0.0
        return spec.affordance_of(args)
