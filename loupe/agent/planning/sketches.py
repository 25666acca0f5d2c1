"""Program sketches: library (and learned) programs with their query-specific values replaced by typed holes.

``derive(instruction, program_text)`` abstracts one program into a ``Program`` with holes (``loupe.programs.ir.Hole``).
Every literal that a different question would change becomes a hole of a kind: ``object`` (LOC's object),
``region`` (LOC's TOP/BOTTOM/LEFT/RIGHT), ``phrase`` and ``category`` (SELECT's query and category),
``question`` (VQA, PICK_TEXT), ``sides`` (WHERE's sides of the photo) and ``side`` (the side an EVAL compares
WHERE's answer with), ``emoji``, ``prompt`` (REPLACE; both keep
the source's value as their default),
``number`` and ``op`` (inside EVAL's text, a ``loupe.programs.ir.Template``: ``{ANSWER0} > 3`` ->
``{ANSWER0} <op0> <number0>``; ``> 0`` and ``== 0`` stay: they are what "is there" and "no" mean). Object
holes are numbered in the order the instruction names their objects and keep the polarity it gives them
("a dog but no cat": +, -), read with ``loupe.agent.planning.query_facts``. Programs with the same holes share one
``Sketch`` (its ``key``), which keeps every instruction it came from.

``sketches_from(pairs, registry)`` builds the set from ``(instruction, program)`` pairs, e.g. the curated
library plus the program cache's learned programs; adding a library example adds its sketch. With a
``registry``, each sketch is checked as far as a program with holes can be (``loupe.programs.checker.check_sketch``):
one that does not check is left out, as every filling of it would be.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from loupe.agent.planning.query_facts import read_query
from loupe.agent.planning.reading import lexicon
from loupe.programs.checker import check_sketch
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Arg, Hole, Program, Ref, Step, Template, program_holes, program_to_json
from loupe.programs.parser import parse_program

REGION_WORDS = ("TOP", "BOTTOM", "LEFT", "RIGHT")
FIXED_OBJECTS = ("everything", "all", "objects", "everything else")
_HOLED_ARGS = {("LOC", "object"): "object", ("SELECT", "query"): "phrase", ("SELECT", "category"): "category",
               ("VQA", "question"): "question", ("PICK_TEXT", "question"): "question", ("EMOJI", "emoji"): "emoji",
               ("REPLACE", "prompt"): "prompt", ("WHERE", "sides"): "sides"}
_COMPARISON = re.compile(r"(\{\w+\}|\))\s*(==|!=|>=|<=|>|<)\s*(\{\w+\}|\d+)")
_SIDE_TEST = re.compile(r"(==\s*')(\w+)'")
_ARITHMETIC = re.compile(r"\{\w+\}\s*([+\-])\s*(?:\{\w+\}|\d+)")


@dataclass
class Sketch:
    """A program shape with holes. ``program``: the ``Program`` whose holed values are ``Hole``s and whose
    EVAL texts with comparisons to fill are ``Template``s; ``polarity``: per object hole, whether the
    instruction negates it; ``numbers``: how many number holes; ``ops``: per op hole, the operator of the
    source program; ``arithmetic``: '+'/'-' the EVALs compute; ``sides``: the order the instruction named
    the LEFT/RIGHT images."""

    key: str
    program: Program
    polarity: tuple[bool, ...]
    numbers: int
    ops: tuple[str, ...]
    arithmetic: tuple[str, ...]
    sides: tuple[str, ...]
    instructions: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.program.steps

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(step.module for step in self.program.steps)

    def holes(self, kind: str) -> int:
        """How many distinct holes of ``kind`` (counted once, then remembered)."""
        counts = self.__dict__.get("_hole_counts")
        if counts is None:
            found: dict[str, set] = {}
            for hole in program_holes(self.program):
                found.setdefault(hole.kind, set()).add(hole.n)
            counts = self.__dict__["_hole_counts"] = {k: len(v) for k, v in found.items()}
        return counts.get(kind, 0)

    @property
    def verbs(self) -> set[str]:
        """The first words of the instructions (for edits, the verb: 'blur', 'replace', ...)."""
        return {text.split()[0].lower().strip(".,!?") for text in self.instructions if text.split()}

    @property
    def answer_type(self) -> str:
        """number | yesno | text | image: what the program returns (from the step RESULT names)."""
        steps = {step.output: step for step in self.program.steps}
        result = next((s for s in self.program.steps if s.module == "RESULT"), None)
        var = result.arg("var") if result else None
        last = steps.get(var.name) if isinstance(var, Ref) else None
        if last is None:
            return "text"
        if last.module == "EVAL":
            expr = str(last.arg("expr", ""))
            if "'yes'" in expr:
                return "yesno"
            return "number" if re.search(r"[+\-]", expr) or expr.strip()[1:-1].isidentifier() else "text"
        return {"COUNT": "number", "OCR": "text", "PICK_TEXT": "text", "VQA": "text",
                "CAPTION": "text", "WHERE": "text"}.get(last.module, "image")

    @property
    def two_images(self) -> bool:
        return any(ref.name == "RIGHT" for step in self.program.steps for ref in step.refs())


def derive(instruction: str, program_text: str, source_id: str = "") -> Sketch:
    """The sketch of one program (see the module docstring). Raises ProgramError if it does not parse or
    gives an argument twice."""
    program = parse_program(program_text)
    if any(len({a.name for a in step.args}) != len(step.args) for step in program.steps):
        raise ProgramError.at("a step gives an argument twice")
    two_images = any(isinstance(a.value, Ref) and a.value.name == "RIGHT" for s in program.steps for a in s.args)
    facts = read_query(instruction, two_images)
    order = _object_order(program.steps, facts)
    counters: dict[str, dict] = {}
    ops: list[str] = []
    numbers = 0
    arithmetic: list[str] = []
    steps = []
    for step in program.steps:
        args = []
        for arg in step.args:
            name, value = arg.name, arg.value
            kind = _HOLED_ARGS.get((step.module, name))
            if step.module == "EVAL" and name == "expr" and isinstance(value, str):
                arithmetic += _ARITHMETIC.findall(value)
                value, found_ops, found_numbers = _holed_expression(value, len(ops), numbers)
                value = _holed_side(value)
                ops += found_ops
                numbers += found_numbers
                value = _named_objects(value, counters, order)
            elif kind and isinstance(value, str) and not _fixed(kind, value):
                if kind == "object" and value.strip().upper() in REGION_WORDS:
                    kind = "region"
                value = _hole(counters, kind, value, order)
            elif kind == "category" and value is not None:
                value = Hole("category", 0)
            args.append(Arg(name, value, arg.span, arg.value_span))
        steps.append(Step(step.output, step.module, tuple(args), step.span, step.module_span))
    holed = Program(tuple(steps))
    polarity = tuple(negated for _, negated in sorted(order.values())) if order else ()
    object_holes = len(counters.get("object", {}))
    polarity = (polarity + (False,) * object_holes)[:object_holes]
    key = json.dumps(program_to_json(holed)["steps"], sort_keys=True)
    return Sketch(key, holed, polarity, numbers, tuple(ops), tuple(arithmetic), facts.sides,
                  [instruction], [source_id] if source_id else [])


def _named_objects(expr: str | Template, counters: dict[str, dict], order) -> str | Template:
    """An EVAL text that names an object the program found ("'{TEXT0} (dogs: {ANSWER0})'") names the object
    its filling finds: the name (or its plural) becomes that object's hole, so a filling for trucks does not
    report them as dogs."""
    found = counters.get("object", {})
    if not found:
        return expr
    names = sorted({form for literal in found for form in (literal, literal + "s", literal + "es")}, key=len,
                   reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
    parts: list = []
    for part in (expr.parts if isinstance(expr, Template) else (expr,)):
        if not isinstance(part, str):
            parts.append(part)
            continue
        end = 0
        for match in pattern.finditer(part):
            literal = next(lit for lit in found if match.group(1) in (lit, lit + "s", lit + "es"))
            parts += [part[end:match.start()], _hole(counters, "object", literal, order)]
            end = match.end()
        parts.append(part[end:])
    parts = [p for p in parts if p != ""]
    if all(isinstance(p, str) for p in parts):
        return expr
    return Template(tuple(parts))


def _fixed(kind: str, value: str) -> bool:
    return kind == "object" and value.strip().lower() in FIXED_OBJECTS


def _object_order(steps, facts) -> dict[str, tuple[int, bool]]:
    """Each LOC object literal -> (its rank in the instruction's mentions, negated?)."""
    from loupe.agent.planning.query_facts import lookup

    literals = [s.arg("object") for s in steps if s.module == "LOC" and isinstance(s.arg("object"), str)
                and s.arg("object").strip().upper() not in REGION_WORDS and not _fixed("object", s.arg("object"))]
    order: dict[str, tuple[int, bool]] = {}
    mentions = [m for m in facts.mentions if m.kind in ("object", "face")]
    for position, literal in enumerate(dict.fromkeys(literals)):
        name = (lookup(literal) or (literal.lower(), ""))[0]
        match = next((m for m in mentions if m.name == name or m.text == literal.lower()), None)
        rank = mentions.index(match) if match else len(mentions) + position
        order[literal] = (rank, bool(match and match.negated))
    ranked = sorted(order, key=lambda lit: order[lit][0])
    return {lit: (i, order[lit][1]) for i, lit in enumerate(ranked)}


def _hole(counters: dict[str, dict], kind: str, value: str, order) -> Hole:
    seen = counters.setdefault(kind, {})
    if value not in seen:
        seen[value] = order[value][0] if kind == "object" and value in order else len(seen)
    return Hole(kind, seen[value], value if kind in ("emoji", "prompt") else None)


def _holed_expression(expr: str, first_op: int, first_number: int) -> tuple[str | Template, list[str], int]:
    """``{A} > 3`` -> ``{A} <op0> <number0>`` (a ``Template``); comparisons of two counts get an op hole;
    ``> 0``/``== 0`` stay. An expression with nothing to fill stays text."""
    ops: list[str] = []
    number_holes: dict[str, int] = {}
    op_holes: dict[tuple[str, str], int] = {}
    parts: list = []
    end = 0
    for match in _COMPARISON.finditer(expr):
        left, op, right = match.groups()
        if right == "0":
            continue
        if right.isdigit():
            number_holes.setdefault(right, len(number_holes))
        key = (op, right if right.isdigit() else "")
        if key not in op_holes:   # 'A == 3 and B == 3' is one comparison applied twice
            op_holes[key] = len(ops)
            ops.append(op)
        parts += [expr[end:match.start()] + left + " ", Hole("op", first_op + op_holes[key]), " "]
        parts.append(Hole("number", first_number + number_holes[right]) if right.isdigit() else right)
        end = match.end()
    if not parts:
        return expr, ops, 0
    parts.append(expr[end:])
    joined: list = []
    for part in parts:   # adjacent texts as one
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        else:
            joined.append(part)
    return Template(tuple(p for p in joined if p != "")), ops, len(number_holes)


def _holed_side(expr):
    """``{ANSWER0} == 'middle'`` -> ``{ANSWER0} == '<side0>'`` (a ``Template``): the side of the photo a yes/no
    question asks about, compared with what WHERE answered. Other expressions stay as they are."""
    match = _SIDE_TEST.search(expr) if isinstance(expr, str) else None
    if match is None or match.group(2) not in lexicon()["photo_sides"]:
        return expr
    return Template((expr[:match.start(2)], Hole("side", 0), expr[match.end(2):]))


def sketches_from(pairs, registry=None) -> list[Sketch]:
    """Sketches of ``(instruction, program_text[, id])`` items, merged by key, in first-seen order; items
    whose program does not parse (or, with a ``registry``, whose sketch does not check) are skipped."""
    merged: dict[str, Sketch] = {}
    for item in pairs:
        instruction, program_text = item[0], item[1]
        source_id = item[2] if len(item) > 2 else ""
        try:
            sketch = derive(instruction, program_text, source_id)
        except ProgramError:
            continue
        key = sketch.key + json.dumps([sketch.polarity, sketch.sides[:1]])
        if key in merged:
            merged[key].instructions.append(instruction)
            merged[key].ids += sketch.ids
        elif registry is None or _checks(sketch, registry):
            merged[key] = sketch
    return list(merged.values())


def _checks(sketch: Sketch, registry) -> bool:
    try:
        check_sketch(sketch.program, registry)
    except ProgramError:
        return False
    return True
