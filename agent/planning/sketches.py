"""Program sketches: library (and learned) programs with their query-specific values replaced by typed holes.

``derive(instruction, program_text)`` abstracts one program. Every literal that a different question would
change becomes a hole of a type: ``object`` (LOC's object), ``region`` (LOC's TOP/BOTTOM/LEFT/RIGHT),
``phrase`` and ``category`` (SELECT's query and category), ``question`` (VQA, PICK_TEXT), ``emoji``, ``prompt``
(REPLACE), ``number`` and ``op`` (inside EVAL: ``{ANSWER0} > 3`` -> ``{ANSWER0} <OP0> <N0>``; ``> 0`` and
``== 0`` stay: they are what "is there" and "no" mean). Object holes are numbered in the order the
instruction names their objects and keep the polarity it gives them ("a dog but no cat": +, -), read
with ``agent.planning.query_facts``. Programs with the same holed text share one ``Sketch`` (its ``key``), which
keeps every instruction it came from.

``sketches_from(pairs)`` builds the set from ``(instruction, program)`` pairs, e.g. the curated library
plus the program cache's learned programs; adding a library example adds its sketch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from agent.planning.query_facts import read_query
from programs.errors import ProgramError
from programs.ir import program_to_json
from programs.parser import parse_program

REGION_WORDS = ("TOP", "BOTTOM", "LEFT", "RIGHT")
FIXED_OBJECTS = ("everything", "all", "objects", "everything else")
_HOLED_ARGS = {("LOC", "object"): "object", ("SELECT", "query"): "phrase", ("SELECT", "category"): "category",
               ("VQA", "question"): "question", ("PICK_TEXT", "question"): "question", ("EMOJI", "emoji"): "emoji",
               ("REPLACE", "prompt"): "prompt"}
_COMPARISON = re.compile(r"(\{\w+\}|\))\s*(==|!=|>=|<=|>|<)\s*(\{\w+\}|\d+)")
_ARITHMETIC = re.compile(r"\{\w+\}\s*([+\-])\s*(?:\{\w+\}|\d+)")


@dataclass
class Sketch:
    """A program shape with holes. ``steps``: program JSON whose holed values are ``{"hole": kind, "n": i}``
    and whose EVAL texts hold ``<OPi>``/``<Ni>``; ``polarity``: per object hole, whether the instruction
    negates it; ``ops``: per op hole, the operator of the source program; ``arithmetic``: '+'/'-' the
    EVALs compute; ``sides``: the order the instruction named the LEFT/RIGHT images."""

    key: str
    steps: list
    polarity: tuple[bool, ...]
    numbers: int
    ops: tuple[str, ...]
    arithmetic: tuple[str, ...]
    sides: tuple[str, ...]
    instructions: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(step["module"] for step in self.steps)

    def holes(self, kind: str) -> int:
        """How many distinct holes of ``kind`` (counted once, then remembered)."""
        counts = self.__dict__.get("_hole_counts")
        if counts is None:
            found: dict[str, set] = {}
            for value in _hole_values(self.steps):
                found.setdefault(value["hole"], set()).add(value["n"])
            counts = self.__dict__["_hole_counts"] = {k: len(v) for k, v in found.items()}
        return counts.get(kind, 0)

    @property
    def verbs(self) -> set[str]:
        """The first words of the instructions (for edits, the verb: 'blur', 'replace', ...)."""
        return {text.split()[0].lower().strip(".,!?") for text in self.instructions if text.split()}

    @property
    def answer_type(self) -> str:
        """number | yesno | text | image: what the program returns (from the step RESULT names)."""
        steps = {step["output"]: step for step in self.steps}
        result = next((s for s in self.steps if s["module"] == "RESULT"), None)
        ref = result["args"].get("var", {}).get("ref") if result else None
        last = steps.get(ref)
        if last is None:
            return "text"
        if last["module"] == "EVAL":
            expr = str(last["args"].get("expr", ""))
            return "yesno" if "'yes'" in expr else "number" if re.search(r"[+\-]", expr) or expr.strip()[1:-1].isidentifier() else "text"
        return {"COUNT": "number", "OCR": "text", "PICK_TEXT": "text", "VQA": "text", "CAPTION": "text"}.get(last["module"], "image")

    @property
    def two_images(self) -> bool:
        return '{"ref": "RIGHT"}' in self.key


def _hole_values(value):
    """Every hole object inside program JSON."""
    if isinstance(value, dict) and "hole" in value:
        yield value
        return
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        yield from _hole_values(item)


def derive(instruction: str, program_text: str, source_id: str = "") -> Sketch:
    """The sketch of one program (see the module docstring). Raises ProgramError if it does not parse."""
    program = program_to_json(parse_program(program_text))
    two_images = any(isinstance(v, dict) and v.get("ref") == "RIGHT"
                     for s in program["steps"] for v in s["args"].values())
    facts = read_query(instruction, two_images)
    order = _object_order(program["steps"], facts)
    counters: dict[str, dict] = {}
    ops: list[str] = []
    numbers = 0
    arithmetic: list[str] = []
    steps = []
    for step in program["steps"]:
        args = {}
        for name, value in step["args"].items():
            kind = _HOLED_ARGS.get((step["module"], name))
            if step["module"] == "EVAL" and name == "expr" and isinstance(value, str):
                value, found_ops, found_numbers = _holed_expression(value, len(ops), numbers)
                ops += found_ops
                numbers += found_numbers
                arithmetic += _ARITHMETIC.findall(step["args"]["expr"])
            elif kind and isinstance(value, str) and not _fixed(kind, value):
                if kind == "object" and value.strip().upper() in REGION_WORDS:
                    kind = "region"
                value = _hole(counters, kind, value, order)
            elif kind == "category" and value is not None:
                value = {"hole": "category", "n": 0}
            args[name] = value
        steps.append({**step, "args": args})
    polarity = tuple(negated for _, negated in sorted(order.values())) if order else ()
    object_holes = len(counters.get("object", {}))
    polarity = (polarity + (False,) * object_holes)[:object_holes]
    key = json.dumps(steps, sort_keys=True)
    return Sketch(key, steps, polarity, numbers, tuple(ops), tuple(arithmetic), facts.sides,
                  [instruction], [source_id] if source_id else [])


def _fixed(kind: str, value: str) -> bool:
    return kind == "object" and value.strip().lower() in FIXED_OBJECTS


def _object_order(steps, facts) -> dict[str, tuple[int, bool]]:
    """Each LOC object literal -> (its rank in the instruction's mentions, negated?)."""
    from agent.planning.query_facts import lookup

    literals = [s["args"]["object"] for s in steps if s["module"] == "LOC"
                and isinstance(s["args"].get("object"), str)
                and s["args"]["object"].strip().upper() not in REGION_WORDS and not _fixed("object", s["args"]["object"])]
    order: dict[str, tuple[int, bool]] = {}
    mentions = [m for m in facts.mentions if m.kind in ("object", "face")]
    for position, literal in enumerate(dict.fromkeys(literals)):
        name = (lookup(literal) or (literal.lower(), ""))[0]
        match = next((m for m in mentions if m.name == name or m.text == literal.lower()), None)
        rank = mentions.index(match) if match else len(mentions) + position
        order[literal] = (rank, bool(match and match.negated))
    ranked = sorted(order, key=lambda lit: order[lit][0])
    return {lit: (i, order[lit][1]) for i, lit in enumerate(ranked)}


def _hole(counters: dict[str, dict], kind: str, value: str, order) -> dict:
    seen = counters.setdefault(kind, {})
    if value not in seen:
        seen[value] = order[value][0] if kind == "object" and value in order else len(seen)
    hole = {"hole": kind, "n": seen[value]}
    return {**hole, "default": value} if kind in ("emoji", "prompt") else hole


def _holed_expression(expr: str, first_op: int, first_number: int) -> tuple[str, list[str], int]:
    """``{A} > 3`` -> ``{A} <OP0> <N0>``; comparisons of two counts get an op hole; ``> 0``/``== 0`` stay."""
    ops: list[str] = []
    number_holes: dict[str, int] = {}
    op_holes: dict[tuple[str, str], int] = {}

    def replace(match):
        left, op, right = match.groups()
        if right == "0":
            return match.group(0)
        if right.isdigit():
            number_holes.setdefault(right, len(number_holes))
        key = (op, right if right.isdigit() else "")
        if key not in op_holes:   # 'A == 3 and B == 3' is one comparison applied twice
            op_holes[key] = len(ops)
            ops.append(op)
        hole = f"<OP{first_op + op_holes[key]}>"
        if right.isdigit():
            return f"{left} {hole} <N{first_number + number_holes[right]}>"
        return f"{left} {hole} {right}"

    return _COMPARISON.sub(replace, expr), ops, len(number_holes)


def sketches_from(pairs) -> list[Sketch]:
    """Sketches of ``(instruction, program_text[, id])`` items, merged by key, in first-seen order; items
    whose program does not parse are skipped."""
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
        else:
            merged[key] = sketch
    return list(merged.values())
