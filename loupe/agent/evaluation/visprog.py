"""The VisProg-style baseline: one LLM planning call per item (no repair, no program cache), then the
program's steps run one at a time, in order, on the same tool backends, with no batching, no
concurrency and no per-image model-result cache (every step gets fresh ``Image`` objects, so the lite
models' identity-keyed cache never hits). A failed step ends the run, as in VisProg.
"""

from __future__ import annotations

from dataclasses import replace
import time
from typing import Any, Mapping

from loupe.programs.checker import CheckedProgram
from loupe.programs.interpreter import Interpreter
from loupe.programs.ir import Ref
from loupe.programs.trace import Execution, Status, StepRecord
from loupe.programs.values import Image


def fresh(value):
    """A new ``Image`` object over the same (read-only) pixels; other values unchanged."""
    return Image(value.pixels, value.source) if isinstance(value, Image) else value


def run_sequential(registry, checked: CheckedProgram, inputs: Mapping[str, Any],
                   step_timeout_s: float = 300.0) -> Execution:
    """Run ``checked`` step by step in program order; every tool call is a batch of one."""
    interpreter = Interpreter(registry, max_workers=1, step_timeout_s=step_timeout_s)
    values: dict[str, Any] = dict(inputs)
    records: list[StepRecord] = []
    failed = ""
    start = time.perf_counter()
    for index, step in enumerate(checked.program.steps):
        if failed:
            records.append(StepRecord(index, step.output, step.module, step.span.line, Status.SKIPPED,
                                      error=f"skipped: the earlier step {failed} failed"))
            continue
        began = time.perf_counter()
        if step.module == "RESULT":  # marks the final value; nothing to run
            value = values[step.args[0].value.name] if isinstance(step.args[0].value, Ref) else step.args[0].value
            records.append(StepRecord(index, step.output, step.module, step.span.line, Status.OK, value=value,
                                      started=began - start))
            values[step.output] = value
            continue
        record = interpreter.run_step(step, {name: fresh(v) for name, v in values.items()})
        records.append(replace(record, index=index, line=step.span.line, started=began - start))
        if record.ok:
            values[step.output] = record.value
        else:
            failed = step.output
    result = values.get(checked.result_variable) if not failed else None
    return Execution(checked.program, tuple(records), result, dict(inputs), time.perf_counter() - start)
