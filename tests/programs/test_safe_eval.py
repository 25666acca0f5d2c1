"""Safe EVAL: what it computes, and that values are data and attacks are ProgramErrors, raised quickly."""

from __future__ import annotations


import numpy as np
import pytest

from loupe.programs.errors import ProgramError
from loupe.programs.safe_eval import MAX_EXPRESSION_CHARS, normalize, parse_expression
from loupe.programs.values import Image


def evaluate(expr: str, **env):
    return parse_expression(expr).evaluate(env)


@pytest.mark.parametrize("expr, env, expected", [
    ("'yes' if {A} > 0 and {B} > 0 else 'no'", {"A": 2, "B": "1"}, "yes"),
    ("'yes' if {A} > 0 and {B} > 0 else 'no'", {"A": 2, "B": "0"}, "no"),
    ("{A} + {B} == 3", {"A": "1", "B": "two"}, True),
    ("{A} + {B} == 3", {"A": 1, "B": 1}, False),
    ("{A} xor {B}", {"A": "yes", "B": "no"}, True),
    ("{A} xor {B}", {"A": "Yes.", "B": True}, False),
    ("{A} and {B} and {C}", {"A": "yes", "B": "true", "C": "no"}, False),
    ("{A} or not {B}", {"A": "no", "B": "no"}, True),
    ("'{A}' == 'white'", {"A": " White "}, True),
    ("{A} == 'white'", {"A": "WHITE"}, True),
    ("{A} != {B}", {"A": "red", "B": "blue"}, True),
    ("{X} if {Y} else {Z}", {"X": "cat", "Y": "yes", "Z": "dog"}, "cat"),
    ("{X} if {Y} else {Z}", {"X": "cat", "Y": "no", "Z": "dog"}, "dog"),
    ("{A} >= 7", {"A": "7"}, True),
    ("1 < {A} <= 3", {"A": 3}, True),
    ("1 < {A} <= 3", {"A": 4}, False),
    ("({A} - 1) * 2 // 3 % 5", {"A": 5}, 2),
    ("-{A} + +2.5", {"A": 1}, 1.5),
    ("{A} / 4", {"A": 2}, 0.5),
    ("'a' + 'b' == 'ab'", {}, True),
    ("'count: {A}'", {"A": 3.0}, "count: 3"),
    ("'{A} and {B}'", {"A": True, "B": False}, "yes and no"),
    ("not {A}", {"A": ""}, True),
    ("{A} == None", {"A": None}, True),
    ("True and not False", {}, True),
    ("{ A }", {"A": "x"}, "x"),
    ("'{}' + '{1A}' + '{A'", {}, "{}{1A}{A"),
])
def test_expressions(expr, env, expected):
    result = evaluate(expr, **env)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("No.", False), ("TRUE", True), ("false!", False), ("3", 3), (" 2.5 ", 2.5),
    ("three", 3), ("none", 0), ("1e3", 1000.0), ("nan", "nan"), ("inf", "inf"), ("red", "red"),
    (4, 4), (None, None), (("a",), ("a",)),
])
def test_normalize(text, expected):
    assert normalize(text) == expected and type(normalize(text)) is type(expected)


ATTACKS = [
    "it's",
    'say "no"',
    "{OTHER}",
    "__import__('os').system('id')",
    "' or 1 or '",
    "\" or 1 or \"",
    "line\nbreak",
    "back\\slash\\",
    "}{",
    "'yes' if True else 'no'",
    "{A} + 1",
]


@pytest.mark.parametrize("answer", ATTACKS)
def test_a_substituted_value_is_data_never_code(answer):
    env = {"A": answer, "OTHER": "secret"}
    assert evaluate("{A}", **env) == answer
    assert evaluate("'{A}'", **env) == answer
    assert evaluate("'<{A}>'", **env) == f"<{answer}>"
    assert evaluate("{A} == {B}", B=answer, **env) is True
    assert evaluate("{A} == 'yes'", **env) is False
    assert evaluate("'x' if {A} == 'no' else 'y'", **env) == "y"


@pytest.mark.parametrize("expr, construct", [
    ("__import__('os')", "double-underscore"),
    ("open('x')", "function calls"),
    ("len({A})", "function calls"),
    ("({A})(1)", "function calls"),
    ("{A}.upper()", "attribute access"),
    ("'a'.join", "attribute access"),
    ("{A}[0]", "subscripts"),
    ("[1, 2]", "subscripts and lists"),
    ("lambda: 1", "lambda"),
    ("[x for x in {A}]", "comprehensions"),
    ("(x for x in 'ab')", "comprehensions"),
    ("{A} ** 2", "'**' (power)"),
    ("'a'*10**9", "'**' (power)"),
    ("__class__", "double-underscore"),
    ("{A} if __debug__ else 1", "double-underscore"),
    ("(y := 1)", "assignment expressions"),
    ("{A} in 'abc'", "membership tests"),
    ("{A} is None", "identity tests"),
    ("{'a': 1}", "dicts"),
    ("1; 2", "statements"),
    ("1 & 2", "bitwise"),
    ("~1", "bitwise"),
    ("f'{A}'", "unknown name 'f'"),
    ("os", "unknown name 'os'"),
    ("{A} if {B}", "needs 'else"),
    ("(1 + 2", "missing ')'"),
    ("1 2", "unexpected 2"),
    ("", "empty"),
    ("1e999", "number out of range"),
    ("(" * 60 + "1" + ")" * 60, "nested deeper than"),
    ("-" * 1500 + "1", "more than 200 operators"),
    ("not " * 450 + "1", "more than 200 operators"),
    ("1+" * 900 + "1", "more than 200 operators"),
    ("1 and " * 300 + "1", "more than 200 operators"),
    ("1 if 1 else " * 150 + "1", "nested deeper than"),
    ("1" * (MAX_EXPRESSION_CHARS + 1), "the limit is"),
    ("'a' " * 100_000, "the limit is"),
])
def test_expression_attacks_are_program_errors_naming_the_construct(expr, construct):
    with pytest.raises(ProgramError) as caught:
        evaluate(expr, A="a", B="b")
    assert construct in str(caught.value)


@pytest.mark.parametrize("expr, env, message", [
    ("'a' * 1000000000", {}, "cannot apply *"),
    ("{A} * {A}", {"A": "x" * 100}, "cannot apply *"),
    ("{A} + {A}", {"A": "x" * 6000}, "longer than"),
    ("'{A}{A}'", {"A": "x" * 6000}, "longer than"),
    ("1" + "0" * 399 + " * 1.5", {}, "overflowed"),
    ("1" + "0" * 399 + " / 3", {}, "overflowed"),
    ("1e308 * 10", {}, "overflowed"),
    ("{A} / 0", {"A": 1}, "divides by zero"),
    ("{A} % {B}", {"A": 1, "B": "zero"}, "divides by zero"),
    ("{A} < 'b'", {"A": 1}, "cannot order"),
    ("{A} < {B}", {"A": None, "B": 1}, "cannot order"),
    ("-{A}", {"A": "cat"}, "unary -"),
    ("{MISSING} > 0", {}, "has no value"),
    ("{A} > 0", {"A": Image(np.zeros((2, 2, 3), np.uint8))}, "holds an Image"),
])
def test_runtime_errors_are_program_errors(expr, env, message):
    with pytest.raises(ProgramError, match=message):
        evaluate(expr, **env)


def test_placeholders_are_listed_with_their_columns():
    expression = parse_expression("'{A}' == {B} and {C}", line=3, column_offset=10)
    assert expression.variables == (("A", 12), ("B", 20), ("C", 28))


def test_error_columns_are_offset():
    with pytest.raises(ProgramError) as caught:
        parse_expression("{A} + len(1)", line=4, column_offset=20)
    assert (caught.value.first.line, caught.value.first.column) == (4, 27)


def test_not_text():
    with pytest.raises(ProgramError, match="as text"):
        parse_expression(42)


@pytest.mark.parametrize("source, tested", [
    ("'yes' if {A} > 0 else 'no'", {"A"}),
    ("'yes' if {A} >= 1 and {B} == 0 else 'no'", {"A", "B"}),
    ("'yes' if 0 < {A} or not {B} != 0 else 'no'", {"A", "B"}),
    ("{A} < 1", {"A"}),
    ("'yes' if {A} > 0 and {A} > 2 else 'no'", set()),  # also compared with another number
    ("{A} > 1", set()),
    ("{A} + {B} > 0", set()),                           # a sum is not one count
    ("'{A} found' if {A} > 0 else 'none'", set()),     # also shown as text
    ("{A} > 0.0", set()),
    ("0 < {A} < 5", set()),                             # chained: a range, not existence
])
def test_zero_tested_names_the_counts_only_tested_for_any_or_none(source, tested):
    assert parse_expression(source).zero_tested == frozenset(tested)
