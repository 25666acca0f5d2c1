"""Fuzz targets of the program language, shared by tests/programs/test_fuzz.py (hypothesis, a few thousand
inputs) and bench/bench_fuzz.py (>= 1M inputs; atheris when installed).

A target takes one text and feeds it to one reader: the lexer, the VisProg parser, the task-list reader,
the checker (on what parses) or EVAL (parse + evaluate). The contract every target must keep:

* the only exception is the reader's typed error (``ProgramError``; the lexer's ``LexError``);
* the error's text is bounded: at most ``MESSAGE_BASE + MESSAGE_PER_CHAR`` x the input's length;
* an EVAL value is bounded (text at most ``MAX_TEXT_CHARS``).

``mutate`` makes inputs from real seeds (the program library, the VisProg test programs, their EVAL
expressions and task lists) by inserting tokens, deleting, duplicating and splicing.
"""

from __future__ import annotations

from functools import lru_cache
import json
from pathlib import Path
import random

from loupe.programs.errors import ProgramError
from loupe.programs.lexer import LexError, tokenize
from loupe.programs.parser import parse_program
from loupe.programs.safe_eval import MAX_TEXT_CHARS, parse_expression
from loupe.programs.tasks import parse_tasks
from loupe.tools.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_BASE, MESSAGE_PER_CHAR = 4000, 40
TOKENS = ["BOX0", "IMAGE", "LEFT", "=", "(", ")", ",", "'", '"', "\\", "[", "]", "{", "}", "{A}", "{B}", "#", "\n",
          " ", "LOC", "COUNT", "EVAL", "RESULT", "expr=", "object=", "image=", "var=", "and", "or", "not", "xor",
          "if", "else", "True", "None", "**", "*", "+", "-", "/", "%", "<", ">=", "==", "1e308", "9" * 40, ".",
          ":", "lambda", "__class__", "\x00", "\ud800", "\ufeff", "é", '"task":', '"id":', '"dep":', '"args":',
          "<GENERATED>-0", "-1", "null", "photo.jpg", "../x.png", "object-detection"]
ENV = {"A": 3, "B": "yes", "C": 2.5, "D": None, "E": [1, 2], "F": "three", "G": True}


class Broken(AssertionError):
    """A target broke its contract: an untyped exception, or an unbounded message or value."""


@lru_cache(maxsize=1)
def registry():
    from loupe.tools.registry import default_registry

    return default_registry(Settings.from_env(), plugins=False)


def lex(text: str) -> None:
    for line, part in enumerate(text.split("\n"), 1):
        tokenize(part, line)


def parse(text: str) -> None:
    parse_program(text)


def tasks(text: str) -> None:
    parse_tasks(text, registry().names())


def check(text: str) -> None:
    from loupe.programs.checker import check as check_program

    check_program(parse_program(text), registry())


def evaluate(text: str) -> None:
    value = parse_expression(text).evaluate(ENV)
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise Broken(f"EVAL made a text of {len(value)} characters")


TARGETS = {"lexer": lex, "parser": parse, "task lists": tasks, "checker": check, "EVAL": evaluate}


def run(target: str, text: str) -> str:
    """Feed ``text`` to ``target``: ``"ok"`` or ``"error"`` (a typed error); raises ``Broken`` otherwise."""
    try:
        TARGETS[target](text)
    except (ProgramError, LexError) as error:
        size = len(str(error))
        if size > MESSAGE_BASE + MESSAGE_PER_CHAR * len(text):
            raise Broken(f"{target}: a {size}-character error for a {len(text)}-character input") from error
        return "error"
    except Broken:
        raise
    except Exception as error:
        raise Broken(f"{target}: {type(error).__name__}: {error} for input {text[:200]!r}") from error
    return "ok"


@lru_cache(maxsize=1)
def seeds() -> dict[str, tuple[str, ...]]:
    """Real inputs per target: library programs and task lists, VisProg test programs, EVAL expressions."""
    programs, task_lists = [], []
    for file in sorted((ROOT / "loupe" / "programs" / "library").glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            programs.append(entry["program"])
            if entry.get("tasks"):
                task_lists.append(json.dumps(entry["tasks"]))
    programs += [f.read_text(encoding="utf-8") for f in sorted((ROOT / "tests/programs/visprog").glob("*.txt"))]
    expressions = [part.split('expr="', 1)[1].rsplit('")', 1)[0] for text in programs
                   for part in text.splitlines() if 'EVAL(expr="' in part]
    expressions += ["{A} + 1 if {B} == 'yes' else 0", "not {G} xor {A} > 2", "'x' * {A}", "{C} / 0", "{E} + [3]"]
    programs_ = tuple(programs)
    return {"lexer": programs_, "parser": programs_, "checker": programs_, "task lists": tuple(task_lists),
            "EVAL": tuple(dict.fromkeys(expressions))}


def mutate(rng: random.Random, text: str, pool: tuple[str, ...], rounds: int | None = None) -> str:
    """``text`` with 1-4 random edits: insert a token or a random character, delete or duplicate a span,
    replace a character, or splice in part of another seed from ``pool``."""
    for _ in range(rounds or rng.randint(1, 4)):
        n = len(text)
        at, span = rng.randint(0, n), rng.randint(1, 12)
        move = rng.randrange(6)
        if move == 0:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif move == 1:
            text = text[:at] + chr(rng.choice((rng.randint(0, 127), rng.randint(0, 0x10FFFF)))) + text[at:]
        elif move == 2:
            text = text[:at] + text[at + span:]
        elif move == 3:
            text = text[:at] + text[at:at + span] * rng.randint(2, 5) + text[at:]
        elif move == 4 and n:
            text = text[:min(at, n - 1)] + rng.choice(TOKENS)[:1] + text[min(at, n - 1) + 1:]
        else:
            other = rng.choice(pool)
            start = rng.randint(0, len(other))
            text = text[:at] + other[start:start + rng.randint(1, 40)] + text[at:]
    return text


def generated(target: str, rng: random.Random) -> str:
    """One input for ``target``: a mutated seed, (1 in 8) a random string of tokens, or (1 in 3, for the
    checker and EVAL) a well-formed program or expression, so that checking and evaluating are reached."""
    pool = seeds()[target]
    roll = rng.randrange(24)
    if roll < 3:
        return "".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 30)))
    if roll < 11 and target == "EVAL":
        return expression(rng)
    if roll < 11 and target == "checker":
        return program(rng)
    return mutate(rng, rng.choice(pool), pool)


ATOMS = ["{A}", "{B}", "{C}", "{D}", "{E}", "{F}", "{G}", "0", "-1", "2.5", "1e308", "10" * 20, "'yes'", "'no'",
         "'ab'", "''", "True", "None", "[1, 'a']", "[]"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", "and", "or", "xor", "in"]


def expression(rng: random.Random, depth: int = 0) -> str:
    """A syntactically valid EVAL expression over ``ENV``'s placeholders (its value may still be an error)."""
    roll = rng.randrange(10) if depth < 5 else 0
    if roll < 4:
        return rng.choice(ATOMS)
    if roll < 7:
        return f"{expression(rng, depth + 1)} {rng.choice(OPERATORS)} {expression(rng, depth + 1)}"
    if roll == 7:
        return f"not {expression(rng, depth + 1)}"
    if roll == 8:
        return f"({expression(rng, depth + 1)})"
    return f"{expression(rng, depth + 1)} if {expression(rng, depth + 1)} else {expression(rng, depth + 1)}"


def program(rng: random.Random) -> str:
    """A parseable program of 1-6 steps calling real modules with their own (and some wrong) argument names,
    values of every kind, references to earlier outputs and inputs, and usually a RESULT."""
    reg = registry()
    names, lines = ["IMAGE", "LEFT", "RIGHT", "NOWHERE"], []
    for index in range(rng.randint(1, 6)):
        module = rng.choice(reg.names())
        params = list(reg.tool_class(module).inputs) + ["bogus"]
        values = [rng.choice(names), repr(rng.choice(ATOMS)), rng.choice(ATOMS[7:]), f'"{expression(rng)}"']
        args = [f"{param}={rng.choice(values)}" for param in rng.sample(params, rng.randint(0, len(params)))]
        output = f"OUT{index}"
        lines.append(f"{output}={module}({','.join(args)})")
        names.append(output)
    if rng.randrange(4):
        lines.append(f"FINAL=RESULT(var={rng.choice(names)})")
    return "\n".join(lines)
