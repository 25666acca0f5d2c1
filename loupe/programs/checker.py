"""Static check of a program against the tool registry, before any model runs.

Checks: every module exists; required arguments are present and unknown ones rejected; each argument's
type matches the tool's declaration; variables are defined before use and assigned once; inputs are
not overwritten; tool-specific checks (EVAL's expression); exactly one RESULT, as the last step.
Every problem is reported at once, each with its line and column.

A program with holes (a sketch, see ``loupe.programs.ir``) never passes ``check``: it cannot run. ``check_sketch``
checks it as far as it can: everything but the holes as ``check`` does, and each hole as a value of the type
of the argument it stands for (its default, when it has one, of that type; one hole standing for arguments
of two types is an error); a tool's own check of an argument with a hole waits for the filling.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Mapping

from loupe.programs.errors import Diagnostic, ProgramError, did_you_mean
from loupe.programs.ir import MODULE_ALIASES, Hole, Program, Ref, Step, Template, Value, holes_in, program_from_json, program_to_json
from loupe.programs.values import ValueType

DEFAULT_INPUTS: Mapping[str, ValueType] = {"IMAGE": ValueType.IMAGE, "LEFT": ValueType.IMAGE,
                                           "RIGHT": ValueType.IMAGE}
MAX_STEPS = 100
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CheckedProgram:
    """A program that passed the check. ``reads[i]`` are the variables step ``i`` reads;
    ``types`` the static type of every variable; ``inputs`` the named inputs the program reads."""

    program: Program
    types: Mapping[str, ValueType]
    reads: tuple[tuple[str, ...], ...]
    inputs: tuple[str, ...]

    @property
    def result_variable(self) -> str:
        return self.program.steps[-1].output

    def to_data(self) -> dict:
        """Plain JSON-able data (for the agent's checkpointed state): the program as ``program_to_json``
        writes it, each variable's type name, each step's reads and the inputs read."""
        return {**program_to_json(self.program), "types": {k: v.value for k, v in self.types.items()},
                "reads": [list(r) for r in self.reads], "inputs": list(self.inputs)}

    @classmethod
    def from_data(cls, data: Mapping) -> "CheckedProgram":
        """Inverse of ``to_data``, without parsing or checking again (the data was checked when written;
        step ``i`` gets line ``i + 1``, as in the rendered text). Raises ``ProgramError`` on malformed data."""
        program = program_from_json(data)
        try:
            types = {str(k): ValueType(v) for k, v in data["types"].items()}
            reads = tuple(tuple(str(n) for n in r) for r in data["reads"])
            inputs = tuple(str(n) for n in data["inputs"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ProgramError.at(f"malformed checked program: {error}") from None
        if len(reads) != len(program.steps):
            raise ProgramError.at(f"malformed checked program: {len(reads)} reads for {len(program.steps)} steps")
        return cls(program, types, reads, inputs)


@dataclass(frozen=True)
class CheckedSketch:
    """A program with holes that passed ``check_sketch``: ``types`` as in ``CheckedProgram``; ``holes`` the
    type each hole stands for (``ANY`` inside text, where any value is written as text). Not runnable."""

    program: Program
    types: Mapping[str, ValueType]
    holes: Mapping[Hole, ValueType]


def check(program: Program, registry, inputs: Mapping[str, ValueType] | None = None,
          max_steps: int = MAX_STEPS) -> CheckedProgram:
    """Check ``program`` against ``registry``; raise ``ProgramError`` with every problem found (a hole is
    one: a program with holes cannot run)."""
    types, reads, used_inputs = _check(program, registry, inputs, max_steps, None)
    return CheckedProgram(program, types, reads, used_inputs)


def check_sketch(program: Program, registry, inputs: Mapping[str, ValueType] | None = None,
                 max_steps: int = MAX_STEPS) -> CheckedSketch:
    """Check a program with holes as far as it can be checked (see the module docstring); raise
    ``ProgramError`` with every problem found."""
    holes: dict[Hole, ValueType] = {}
    types, _, _ = _check(program, registry, inputs, max_steps, holes)
    return CheckedSketch(program, types, holes)


def _check(program: Program, registry, inputs, max_steps: int, holes: dict | None):
    """``(types, reads, inputs read)`` of a program that checks; ``holes``: None refuses holes, else it
    gets the type each hole stands for."""
    inputs = dict(DEFAULT_INPUTS if inputs is None else inputs)
    problems: list[Diagnostic] = []
    types: dict[str, ValueType] = dict(inputs)
    defined_at: dict[str, int] = {}
    reads: list[tuple[str, ...]] = []
    used_inputs: set[str] = set()
    if len(program.steps) > max_steps:
        problems.append(Diagnostic(f"the program has {len(program.steps)} steps; the limit is {max_steps}"))
    for step in program.steps:
        step_reads, step_problems = _check_step(step, registry, types, inputs, holes)
        problems += step_problems
        used_inputs |= {name for name in step_reads if name in inputs}
        reads.append(tuple(dict.fromkeys(step_reads)))
        problems += _check_output(step, inputs, defined_at)
    problems += _check_result(program)
    if problems:
        raise ProgramError(problems)
    return types, tuple(reads), tuple(sorted(used_inputs))


def _check_output(step: Step, inputs, defined_at: dict[str, int]) -> list[Diagnostic]:
    line, column = step.span.line, step.span.column
    if not _IDENTIFIER.match(step.output):
        return [Diagnostic(f"{step.output!r} is not a valid variable name", line, column, step.output,
                           "use letters, digits and _, e.g. BOX0")]
    if step.output in inputs:
        return [Diagnostic(f"{step.output} is an input and cannot be assigned", line, column, step.output,
                           "choose another name, e.g. IMAGE0")]
    if step.output in defined_at:
        return [Diagnostic(f"{step.output} is assigned twice (first on line {defined_at[step.output]})",
                           line, column, step.output, "give each step its own output name")]
    defined_at[step.output] = line
    return []


def _check_step(step: Step, registry, types: dict[str, ValueType], inputs,
                holes: dict | None = None) -> tuple[list[str], list[Diagnostic]]:
    line = step.span.line
    if step.module not in registry:
        aliases = [alias for alias, module in MODULE_ALIASES.items() if module in registry]
        suggestion = did_you_mean(step.module, [*registry.names(), *aliases], "modules")
        types.setdefault(step.output, ValueType.ANY)  # so later steps are not reported as using an undefined name
        return _refs_of(step), [Diagnostic(f"unknown module {step.module}", line, step.module_span.column,
                                           step.module, suggestion)]
    tool = registry.tool_class(step.module)
    problems: list[Diagnostic] = []
    arg_types: dict[str, ValueType] = {}
    seen: set[str] = set()
    holed: set[str] = set()   # arguments with holes: the tool's own checks wait for the filling
    for arg in step.args:
        column = arg.span.column
        if arg.name in seen:
            problems.append(Diagnostic(f"argument {arg.name} given twice", line, column, arg.name,
                                       f"give each argument once: {tool.signature()}"))
            continue
        seen.add(arg.name)
        if arg.name not in tool.inputs:
            hint = did_you_mean(arg.name, tool.inputs, "arguments")
            problems.append(Diagnostic(f"{step.module} has no argument {arg.name}", line, column, arg.name,
                                       f"{hint} ({tool.signature()})" if hint else tool.signature()))
            continue
        param = tool.inputs[arg.name]
        found = list(holes_in(arg.value))
        if found:
            holed.add(arg.name)
            if holes is None:
                problems.append(Diagnostic(
                    f"{step.module} argument {arg.name} is the hole {found[0]}: a program with holes cannot run",
                    line, arg.value_span.column, str(found[0]), "fill every hole first"))
                arg_types[arg.name] = param.type
                continue
            problems += _hole_types(arg.value, param.type, holes, line, arg.value_span.column)
        value_type, value_problems = _type_of(arg.value, types, inputs, line, arg.value_span.column, param.type)
        problems += value_problems
        arg_types[arg.name] = value_type
        if value_type is ValueType.NONE and not param.required:
            continue
        if value_type is not None and not param.type.accepts(value_type):
            problems.append(Diagnostic(
                f"{step.module} argument {arg.name} must be {param.type}, but {_describe(arg.value)} is "
                f"{value_type}", line, arg.value_span.column, _shown(arg.value), tool.signature()))
    for name, param in tool.inputs.items():
        if param.required and name not in seen:
            problems.append(Diagnostic(f"{step.module} needs the argument {name} ({param.type})", line,
                                       step.module_span.column, step.module, tool.signature()))
    literal_args = {a.name: a.value for a in step.args if a.name not in holed}
    for diagnostic in tool.check(literal_args, line):
        problems.append(_placed(diagnostic, step))
    implicit = tool.implicit_reads(literal_args)
    for name, column in implicit:
        if name not in types:
            problems.append(_undefined(name, types, line, _expr_column(step, column)))
    if step.output not in inputs:  # an input keeps its type even when wrongly assigned
        types[step.output] = tool.output_type(arg_types)
    return _refs_of(step) + [n for n, _ in implicit], problems


def _hole_types(value: Value, declared: ValueType, holes: dict, line: int, column: int) -> list[Diagnostic]:
    """Types the holes in an argument's value: a whole value stands for the argument's ``declared`` type, an
    item of a list for text, a part of a text for any value (written as text). Its default must be of that
    type, and a hole met before must have stood for a type it accepts."""
    if isinstance(value, Hole):
        typed = [(value, declared)]
    elif isinstance(value, Template):
        typed = [(hole, ValueType.ANY) for hole in value.holes]
    else:
        typed = [(hole, ValueType.TEXT) for hole in holes_in(value)]
    problems = []
    for hole, stands_for in typed:
        if hole.default is not None:
            default, _ = _type_of(hole.default, {}, {}, line, column)
            if default is not None and not stands_for.accepts(default):
                problems.append(Diagnostic(f"the hole {hole} stands for {stands_for}, but its default "
                                           f"{hole.default!r:.40} is {default}", line, column, str(hole)))
        before = holes.setdefault(hole, stands_for)
        if not (before.accepts(stands_for) or stands_for.accepts(before)):
            problems.append(Diagnostic(f"the hole {hole} stands for {stands_for} here but for {before} before",
                                       line, column, str(hole), "give each hole one type"))
    return problems


def _type_of(value: Value, types, inputs, line: int, column: int,
             declared: ValueType | None = None) -> tuple[ValueType | None, list[Diagnostic]]:
    """The static type of a value; a hole's is ``declared`` (the argument's), text with holes is text."""
    if isinstance(value, Hole):
        return declared, []
    if isinstance(value, Template):
        return ValueType.TEXT, []
    if isinstance(value, Ref):
        if value.name not in types:
            return None, [_undefined(value.name, types, line, value.span.column or column)]
        return types[value.name], []
    if value is None:
        return ValueType.NONE, []
    if isinstance(value, bool):
        return ValueType.BOOL, []
    if isinstance(value, (int, float)):
        return ValueType.NUMBER, []
    if isinstance(value, str):
        return ValueType.TEXT, []
    if isinstance(value, tuple):
        if all(isinstance(v, (str, Hole, Template)) for v in value):
            return ValueType.TEXT_LIST, []
        return None, [Diagnostic("a list value must hold only text, e.g. ['cat','dog']", line, column)]
    return None, [Diagnostic(f"unsupported value {value!r}", line, column)]


def _undefined(name: str, types, line: int, column: int) -> Diagnostic:
    suggestion = did_you_mean(name, list(types), "variables here")
    return Diagnostic(f"variable {name} is used before it is defined", line, column, name, suggestion)


def _refs_of(step: Step) -> list[str]:
    return [ref.name for ref in step.refs()]


def _check_result(program: Program) -> list[Diagnostic]:
    results = [s for s in program.steps if s.module == "RESULT"]
    if not results:
        last = program.steps[-1].span.line if program.steps else 0
        return [Diagnostic("the program has no RESULT step", last, 0, "",
                           "end it with FINAL_RESULT=RESULT(var=<the answer variable>)")]
    problems = [Diagnostic(f"a program has exactly one RESULT; another on line {s.span.line}",
                           s.span.line, s.span.column, s.output) for s in results[1:]]
    if program.steps[-1].module != "RESULT":
        first = results[0]
        problems.append(Diagnostic("RESULT must be the last step", first.span.line, first.span.column,
                                   first.output, "move the RESULT step to the end"))
    return problems


def _expr_column(step: Step, column_in_expr: int) -> int:
    for arg in step.args:
        if arg.name == "expr" and arg.value_span.column:
            return arg.value_span.column + column_in_expr
    return 0


def _placed(diagnostic: Diagnostic, step: Step) -> Diagnostic:
    """Move a tool check's diagnostic to the step's line; a column inside EVAL's expr becomes a line column."""
    column = _expr_column(step, diagnostic.column) if diagnostic.column else step.module_span.column
    return Diagnostic(diagnostic.message, step.span.line, column, diagnostic.text, diagnostic.suggestion)


def _describe(value: Value) -> str:
    return value.name if isinstance(value, Ref) else repr(value)


def _shown(value: Value) -> str:
    return value.name if isinstance(value, Ref) else repr(value)[:40]
