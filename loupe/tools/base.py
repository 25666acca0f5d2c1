"""The tool protocol: a tool declares itself in a few class attributes and one ``execute`` method.

    class Count(Tool):
        name = "COUNT"
        description = "Counts the objects in a set of objects."
        inputs = {"box": Param(ValueType.OBJECTS, "objects to count")}
        output = ValueType.NUMBER

        def execute(self, box):
            return len(box)

A badly declared tool fails when its class is created, not in the middle of a run. Tools render their
own card for the planner's prompt (``card``), say how likely they are to succeed here (``affordance``)
and how to show their output (``rationale_html``).
"""

from __future__ import annotations

from dataclasses import dataclass
import inspect
import re
from typing import Any, ClassVar, Mapping, Sequence

from loupe.programs.errors import Diagnostic, ToolError
from loupe.programs.values import ValueType

_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SENTENCE_END = re.compile(r"(?<=\.)\s+(?=[A-Z])")
_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One declared input: its type, a short doc, and a default when optional."""

    type: ValueType
    doc: str = ""
    default: Any = _MISSING

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    def describe(self, name: str) -> str:
        optional = "" if self.required else f" = {self.default!r}"
        return f"{name}: {self.type}{optional}"


class Tool:
    """Base of every tool. Subclasses set ``name``, ``description``, ``inputs``, ``output``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    inputs: ClassVar[dict[str, Param]] = {}
    output: ClassVar[ValueType] = ValueType.ANY
    writes_image: ClassVar[bool] = False   # True for edits (asked for approval in the agent)
    reads_variables: ClassVar[bool] = False  # True when execute() also takes ``variables`` (EVAL)
    examples: ClassVar[tuple[str, ...]] = ()  # one-line usage examples for the tool card
    cheap: ClassVar[bool] = False  # True for microsecond tools (run on the interpreter's own light workers)
    # the name of a keyword ``execute`` takes (not a program argument) that the interpreter sets to True when
    # the step's output is only ever tested for zero by the steps reading it ("is there any ...?", ``zero_tested``)
    existence_input: ClassVar[str] = ""

    def __init__(self, context=None):
        from loupe.tools.context import ToolContext

        self.context = context if context is not None else ToolContext()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        _validate_declaration(cls)

    # ---- what subclasses implement -----------------------------------------------------------------

    def execute(self, **kwargs):
        raise NotImplementedError

    def execute_batch(self, calls: Sequence[Mapping[str, Any]]) -> list:
        """Run several calls; returns one result or one exception per call, in order.

        The default runs them one by one; model tools override it to run one batched forward.
        """
        from loupe.tools.backends import each

        return each(calls, lambda call: self.execute(**call))

    def batches(self) -> bool:
        """True when ``execute_batch`` runs many calls faster than one by one (then the interpreter
        groups ready calls into one batch; otherwise it runs them concurrently)."""
        return type(self).execute_batch is not Tool.execute_batch

    def affordance(self, args: Mapping[str, Any]) -> float:
        """0..1: how likely this call is to succeed here, given its arguments and the installed backends.

        ``args`` may hold literal values (e.g. ``object='glasses'``) and placeholders for variables.
        """
        return 1.0

    def backend_name(self) -> str:
        """Which implementation runs this tool (shown in traces): ``builtin`` for tools with no model."""
        return "builtin"

    @classmethod
    def check(cls, args: Mapping[str, Any], line: int) -> list[Diagnostic]:
        """Extra static checks on literal arguments; ``args`` maps names to IR values."""
        return []

    @classmethod
    def output_type(cls, arg_types: Mapping[str, ValueType]) -> ValueType:
        """The static type of the output given the argument types (RESULT passes its input's through)."""
        return cls.output

    @classmethod
    def implicit_reads(cls, args: Mapping[str, Any]) -> list[tuple[str, int]]:
        """Variables read other than through arguments, as ``(name, column)`` (EVAL's placeholders)."""
        return []

    @classmethod
    def zero_tested(cls, args: Mapping[str, Any]) -> frozenset[str]:
        """Variables this call reads only to test them for zero ("any?" / "none?": EVAL's ``{N} > 0``)."""
        return frozenset()

    def rationale_html(self, output) -> str:
        """An HTML fragment showing ``output`` in the visual rationale."""
        from loupe.programs.rationale_values import value_html

        return value_html(output)

    # ---- self-description ------------------------------------------------------------------------

    @classmethod
    def signature(cls) -> str:
        params = ", ".join(p.describe(n) for n, p in cls.inputs.items())
        return f"{cls.name}({params}) -> {cls.output}"

    @classmethod
    def summary(cls) -> str:
        """The description's first sentence (a full stop followed by a capital ends it; "e.g. x" does not)."""
        return _SENTENCE_END.split(cls.description.strip(), maxsplit=1)[0]

    @classmethod
    def card(cls) -> str:
        """The tool card the planner's prompt renders: the signature and what the tool does (the first
        sentence of its description), then its first usage example."""
        card = f"{cls.signature()}  # {cls.summary()}"
        return card + (f"\n    e.g. {cls.examples[0]}" if cls.examples else "")

    def __repr__(self) -> str:
        return f"<tool {self.name}>"


def _validate_declaration(cls) -> None:
    where = f"tool class {cls.__name__}"
    if not isinstance(cls.name, str) or not _NAME.match(cls.name):
        raise TypeError(f"{where}: name must be UPPER_CASE letters, digits and _; got {cls.name!r}")
    if not isinstance(cls.description, str) or len(cls.description.strip()) < 10:
        raise TypeError(f"{where} ({cls.name}): description must be a sentence; got {cls.description!r}")
    if not isinstance(cls.output, ValueType):
        raise TypeError(f"{where} ({cls.name}): output must be a ValueType; got {cls.output!r}")
    for arg, param in cls.inputs.items():
        if not isinstance(param, Param):
            raise TypeError(f"{where} ({cls.name}): input {arg!r} must be a Param; got {param!r}")
    parameters = inspect.signature(cls.execute).parameters
    accepted = [n for n, p in parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD]
    expected = list(cls.inputs) + (["variables"] if cls.reads_variables else []) + (
        [cls.existence_input] if cls.existence_input else [])
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return
    if sorted(accepted) != sorted(expected):
        raise TypeError(f"{where} ({cls.name}): execute() takes {accepted} but the declared inputs are "
                        f"{expected}; make them the same")


def require(condition: bool, message: str) -> None:
    """Raise a ToolError with ``message`` unless ``condition`` holds (for run-time argument checks)."""
    if not condition:
        raise ToolError(message)
