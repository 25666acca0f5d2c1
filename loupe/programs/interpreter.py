"""Runs checked programs: independent steps concurrently, one tool's ready calls batched together.

The scheduler keeps, for every program being run, which steps are done, failed or waiting. Whenever
steps become ready it groups them by tool (across all programs of a ``run_many`` call) and hands each
group to the tool's ``execute_batch`` on a worker thread; cheap tools (COUNT, EVAL, RESULT) run on a
worker of their own (never queued behind a model), under the same step time limit as every other step.
A failed step's dependents are marked skipped and never run; no value is ever passed on unchecked:
arguments are type-checked before a call and outputs against the tool's declaration after it.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
import time
from typing import Any, Callable, Mapping, Sequence

from loupe.programs.checker import DEFAULT_INPUTS, CheckedProgram, check
from loupe.programs.errors import LoupeError, ProgramError, ToolError, ToolUnavailable
from loupe.programs.ir import Arg, Program, Ref, Step
from loupe.programs.parser import parse_program
from loupe.programs.trace import Execution, Status, StepRecord
from loupe.programs.values import type_of

DEFAULT_STEP_TIMEOUT_S = 300.0
_CHEAP_WORKERS = 2  # COUNT, EVAL, RESULT: microseconds each, but still under the step time limit


@dataclass
class _Job:
    """One program being run: its values and the record of each step so far."""

    checked: CheckedProgram
    inputs: Mapping[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    records: dict[int, StepRecord] = field(default_factory=dict)
    submitted: set[int] = field(default_factory=set)
    started: float = 0.0
    zero_tested: set[int] = field(default_factory=set)  # steps whose output is taken as only tested for zero

    def ready_steps(self) -> list[int]:
        return [i for i, reads in enumerate(self.checked.reads)
                if i not in self.submitted and all(name in self.values for name in reads)]

    def blocked_steps(self) -> list[int]:
        """Steps that can never run because something they read failed (transitively)."""
        failed = {r.output for r in self.records.values() if not r.ok}
        blocked = []
        for i, reads in enumerate(self.checked.reads):
            if i in self.submitted:
                continue
            bad = [name for name in reads if name in failed]
            if bad:
                blocked.append((i, bad[0]))
                failed.add(self.checked.program.steps[i].output)
        return blocked


@dataclass
class _Call:
    job: _Job
    index: int
    kwargs: dict[str, Any]


class Interpreter:
    """Runs programs against a tool registry.

    ``max_workers``: tool groups running at once. ``step_timeout_s``: a step (or batch) running longer is
    marked ``timeout`` and its dependents skipped (its thread cannot be killed and finishes unobserved).
    ``max_steps``: the longest program accepted. ``on_record``: called with every step record as it
    is made (from the scheduling thread), e.g. to stream step events.
    """

    def __init__(self, registry, max_workers: int = 4, step_timeout_s: float = DEFAULT_STEP_TIMEOUT_S,
                 max_steps: int = 100, on_record: Callable[[StepRecord], None] | None = None):
        self.registry = registry
        self.on_record = on_record  # called with each step's record as soon as it is known (streaming)
        self.max_workers = max_workers
        self.step_timeout_s = step_timeout_s
        self.max_steps = max_steps

    # ---- preparing ------------------------------------------------------------------------------

    def prepare(self, program: Program | CheckedProgram | str, inputs: Mapping[str, Any]) -> CheckedProgram:
        """Parse and check as needed; make sure every input the program reads is given."""
        if isinstance(program, str):
            program = parse_program(program)
        if isinstance(program, Program):
            input_types = dict(DEFAULT_INPUTS)
            input_types.update({name: type_of(value) for name, value in inputs.items()})
            program = check(program, self.registry, input_types, self.max_steps)
        missing = [name for name in program.inputs if name not in inputs]
        if missing:
            raise ProgramError.at(
                f"the program reads the input(s) {', '.join(missing)}, which were not given",
                suggestion="give IMAGE with --image, LEFT and RIGHT with --image and --right")
        return program

    # ---- running --------------------------------------------------------------------------------

    def run(self, program: Program | CheckedProgram | str, inputs: Mapping[str, Any]) -> Execution:
        """Run one program over named inputs (``{"IMAGE": Image}``); returns result and trace."""
        return self.run_many([(program, inputs)])[0]

    def run_step(self, step: Step, values: Mapping[str, Any], zero_tested: bool = False) -> StepRecord:
        """Run one step on known values (the SayCan loop builds its program a step at a time);
        ``zero_tested``: what reads its output only tests it for zero (see ``Tool.existence_input``)."""
        program = Program((step, Step(f"{step.output}_RESULT", "RESULT", (Arg("var", Ref(step.output)),))))
        job = _Job(self.prepare(program, values), dict(values), zero_tested={0} if zero_tested else set())
        return self._run_jobs([job])[0].records[0]

    def run_many(self, jobs: Sequence[tuple[Program | CheckedProgram | str, Mapping[str, Any]]]) -> list[Execution]:
        """Run several programs together; calls of one tool that are ready at once run as one batch."""
        return self._run_jobs([_Job(self.prepare(p, inputs), dict(inputs)) for p, inputs in jobs])

    def _run_jobs(self, prepared: list[_Job]) -> list[Execution]:
        for job in prepared:
            job.values.update(job.inputs)
        start = time.perf_counter()
        for job in prepared:
            job.started = start
        pools = (ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="loupe-step"),
                 ThreadPoolExecutor(max_workers=_CHEAP_WORKERS, thread_name_prefix="loupe-cheap-step"))
        try:
            self._schedule(prepared, pools)
        finally:
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)
        return [self._execution(job, time.perf_counter() - start) for job in prepared]

    def _schedule(self, jobs: list[_Job], pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor]) -> None:
        running: dict[Future, tuple[list[_Call], float]] = {}
        while True:
            self._start_ready(jobs, pools, running)
            if not running:
                return
            first_deadline = min(t0 for _, t0 in running.values()) + self.step_timeout_s
            done, _ = wait(list(running), timeout=max(0.0, first_deadline - time.perf_counter()),
                           return_when=FIRST_COMPLETED)
            now = time.perf_counter()
            for future in done:
                calls, t0 = running.pop(future)
                self._finish(calls, future.result(), t0, now - t0)
            for future in [f for f, (_, t0) in running.items() if now - t0 >= self.step_timeout_s]:
                calls, t0 = running.pop(future)
                future.cancel()
                message = f"ran longer than the step time limit of {self.step_timeout_s:g} s"
                self._finish(calls, [_Timeout(message)] * len(calls), t0, now - t0)

    def _start_ready(self, jobs: list[_Job], pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor],
                     running: dict) -> None:
        """Submit every ready group (cheap tools to their own pool); repeat until nothing new is ready
        (a step refused before it runs, or skipped, can make others skippable)."""
        while True:
            self._skip_blocked(jobs)
            recorded = sum(len(job.records) for job in jobs)
            for module, calls in self._ready_groups(jobs).items():
                tool = self.registry.tool(module)
                pool = pools[1] if tool.cheap else pools[0]
                for batch in ([calls] if tool.cheap or tool.batches() else [[call] for call in calls]):
                    # each call runs in a copy of the caller's context: values it injected for this run
                    # (``contextvars``, e.g. the planner's LLM for LIST) reach the tools, and only this run's
                    started = time.perf_counter()  # before the call can start: its wall time includes it all
                    future = pool.submit(contextvars.copy_context().run, self._call_tool, tool, batch)
                    running[future] = (batch, started)
            if sum(len(job.records) for job in jobs) == recorded:
                return

    def _ready_groups(self, jobs: list[_Job]) -> dict[str, list[_Call]]:
        groups: dict[str, list[_Call]] = {}
        for job in jobs:
            for index in job.ready_steps():
                job.submitted.add(index)
                step = job.checked.program.steps[index]
                call = _Call(job, index, self._arguments(job, index))
                problem = self._argument_problem(call)
                if problem:
                    self._record(call, Status.FAILED, error=problem, started=time.perf_counter())
                    continue
                groups.setdefault(step.module, []).append(call)
        return groups

    def _arguments(self, job: _Job, index: int) -> dict[str, Any]:
        step = job.checked.program.steps[index]
        tool_class = self.registry.tool_class(step.module)
        kwargs = {arg.name: _resolve(arg.value, job.values) for arg in step.args}
        for name, param in tool_class.inputs.items():
            if name not in kwargs and not param.required:
                kwargs[name] = param.default
        if tool_class.reads_variables:
            kwargs["variables"] = {name: job.values[name] for name in job.checked.reads[index]}
        existence = getattr(tool_class, "existence_input", "")
        if existence and (index in job.zero_tested or self._only_zero_tested(job.checked, index)):
            kwargs[existence] = True
        return kwargs

    def _only_zero_tested(self, checked: CheckedProgram, index: int) -> bool:
        """Whether step ``index``'s output is read, and only to be tested for zero (``Tool.zero_tested``),
        and is not the program's result."""
        output = checked.program.steps[index].output
        readers = [checked.program.steps[j] for j, reads in enumerate(checked.reads) if output in reads]
        return bool(readers) and output != checked.result_variable and all(
            output in getattr(self.registry.tool_class(step.module), "zero_tested", lambda args: ())(
                {arg.name: arg.value for arg in step.args}) for step in readers)

    def _argument_problem(self, call: _Call) -> str:
        """Run-time type check of the arguments (values typed Any statically are checked here)."""
        step = call.job.checked.program.steps[call.index]
        tool_class = self.registry.tool_class(step.module)
        for name, param in tool_class.inputs.items():
            value = call.kwargs.get(name)
            if value is None and not param.required:
                continue
            actual = type_of(value)
            if not param.type.accepts(actual):
                return f"{step.module} argument {name} must be {param.type}, but got {actual} ({_short(value)})"
        return ""

    @staticmethod
    def _call_tool(tool, calls: list[_Call]) -> list:
        try:
            results = tool.execute_batch([call.kwargs for call in calls])
        except Exception as error:  # a crash of the batch fails each of its calls
            return [error] * len(calls)
        if len(results) != len(calls):
            error = ToolError(f"{tool.name} returned {len(results)} results for {len(calls)} calls")
            return [error] * len(calls)
        return results

    def _finish(self, calls: list[_Call], results: list, t0: float, wall: float) -> None:
        for call, result in zip(calls, results):
            step = call.job.checked.program.steps[call.index]
            tool = self.registry.tool(step.module)
            status, error, crashed = Status.OK, "", False
            refused = isinstance(result, ToolUnavailable)
            if isinstance(result, _Timeout):
                status, error = Status.TIMEOUT, str(result)
            elif isinstance(result, BaseException):
                status, error = Status.FAILED, _message(result)
                crashed = not isinstance(result, LoupeError)
            else:
                declared = tool.output_type({})
                if not declared.accepts(type_of(result)):
                    status, error = Status.FAILED, f"{step.module} returned {type_of(result)}, not {declared}"
            if status is Status.OK:
                call.job.values[step.output] = result
            self._record(call, status, value=result if status is Status.OK else None, error=error,
                         started=t0, wall=wall, backend=tool.backend_name(), batch=len(calls), crashed=crashed,
                         refused=refused)

    def _record(self, call: _Call, status: Status, value=None, error="", started=0.0, wall=0.0, backend="",
                batch=1, crashed=False, refused=False) -> None:
        job, step = call.job, call.job.checked.program.steps[call.index]
        shown = {k: v for k, v in call.kwargs.items() if k != "variables"}
        shown.update(call.kwargs.get("variables", {}))
        job.records[call.index] = StepRecord(
            call.index, step.output, step.module, step.span.line, status, shown, value, error,
            max(0.0, started - job.started), wall, backend, batch, crashed, refused)
        if self.on_record is not None:
            self.on_record(job.records[call.index])

    def _skip_blocked(self, jobs: list[_Job]) -> None:
        for job in jobs:
            for index, cause in job.blocked_steps():
                job.submitted.add(index)
                step = job.checked.program.steps[index]
                job.records[index] = StepRecord(index, step.output, step.module, step.span.line,
                                                Status.SKIPPED, error=f"skipped: its input {cause} failed")
                if self.on_record is not None:
                    self.on_record(job.records[index])

    @staticmethod
    def _execution(job: _Job, wall: float) -> Execution:
        records = tuple(job.records[i] for i in sorted(job.records))
        result_name = job.checked.result_variable
        return Execution(job.checked.program, records, job.values.get(result_name), job.inputs, wall)


class _Timeout(Exception):
    pass


def _resolve(value, values: Mapping[str, Any]):
    if isinstance(value, Ref):
        return values[value.name]
    if isinstance(value, tuple):
        return tuple(_resolve(v, values) for v in value)
    return value


def _message(error: BaseException) -> str:
    if isinstance(error, LoupeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
