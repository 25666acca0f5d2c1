"""What a run leaves behind: one ``StepRecord`` per step and the ``Execution`` that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
import enum
from typing import Any, Mapping

from loupe.programs.ir import Program
from loupe.programs.values import Image, as_text


class Status(str, enum.Enum):
    OK = "ok"
    FAILED = "failed"      # the step ran and raised
    TIMEOUT = "timeout"    # the step ran past its time limit
    SKIPPED = "skipped"    # an input step failed, so this step never ran

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StepRecord:
    """One step of one run. Times are seconds; ``started`` counts from the start of the run."""

    index: int
    output: str
    module: str
    line: int
    status: Status
    inputs: Mapping[str, Any] = field(default_factory=dict)
    value: Any = None
    error: str = ""
    started: float = 0.0
    wall_s: float = 0.0
    backend: str = ""
    batch_size: int = 1
    crashed: bool = False  # the tool raised an unexpected exception (a bug), not a ToolError
    refused: bool = False  # the backend cannot do what was asked (ToolUnavailable): a capability, not a fault

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def summary(self, value_chars: int = 200) -> dict:
        """The record as JSON-able data (events, ``--json``, the agent's state, evaluation rows): times in
        ms, ``value`` the output read as text (at most ``value_chars`` characters; None when it has none)."""
        return {"line": self.line, "output": self.output, "module": self.module, "status": str(self.status),
                "started_ms": round(self.started * 1000, 2), "wall_ms": round(self.wall_s * 1000, 2),
                "backend": self.backend, "batch": self.batch_size, "error": self.error,
                "value": None if self.value is None else as_text(self.value)[:value_chars]}


@dataclass(frozen=True)
class Execution:
    """The result of running a program: ``result`` is the RESULT step's value (None if it did not run)."""

    program: Program
    records: tuple[StepRecord, ...]
    result: Any = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.records)

    @property
    def errors(self) -> list[str]:
        """``line N (OUT=MODULE): message`` for each step that failed or timed out."""
        return [f"line {r.line} ({r.output}={r.module}): {r.error}" for r in self.records
                if r.status in (Status.FAILED, Status.TIMEOUT)]

    @property
    def crashed(self) -> bool:
        return any(r.crashed for r in self.records)

    @property
    def image(self) -> Image | None:
        """The result when it is an image (an edit), else None."""
        return self.result if isinstance(self.result, Image) else None

    @property
    def text(self) -> str:
        """The result read as a text answer; '' when it is an image or there is none."""
        return "" if self.result is None or self.image is not None else as_text(self.result)

    @property
    def answer(self) -> str:
        """The result read as text (booleans as yes/no)."""
        return as_text(self.result) if self.result is not None else ""

    def steps(self) -> list[dict]:
        """Every step's ``StepRecord.summary``, in program order."""
        return [r.summary() for r in self.records]

    def record(self, output: str) -> StepRecord:
        return next(r for r in self.records if r.output == output)
