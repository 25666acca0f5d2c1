"""VisProg's EVAL expressions, read by a whitelisted parser and computed over typed values.

Supported: ``{VAR}`` placeholders (also inside string literals, as text), ``and``/``or``/``not``/``xor``,
comparisons (chained), ``+ - * / // %``, unary minus, ``x if c else y``, parentheses, string and number
literals, ``True``/``False``/``None``. A substituted value is always data, never code: an answer holding
quotes, braces or ``__import__('os')`` is only ever a string. Everything else (calls, attributes,
subscripts, unknown names, ``**``) is a ``ProgramError`` naming the construct.

Values are normalised before use: text ``yes``/``true`` and ``no``/``false`` become booleans, text that
reads as a number (``"3"``, ``"2.5"``, ``"three"``) becomes that number.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Mapping

from loupe.programs.errors import Diagnostic, ProgramError
from loupe.programs.safe_eval_nodes import Binary, Compare, Const, IfElse, Text, Unary, Var
from loupe.programs.lexer import END, NAME, NUMBER, OP, STRING, LexError, Token, tokenize
from loupe.programs.safe_eval_semantics import MAX_TEXT_CHARS, evaluate, normalize  # noqa: F401  (re-exported)

MAX_EXPRESSION_CHARS = 2000
MAX_NESTING = 40
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONSTANTS = {"True": True, "False": False, "None": None}
_FORBIDDEN_CHARACTERS = {".": "attribute access is", ":": "lambdas, slices and dicts are",
                         ";": "statements are", "@": "decorators and @ are", "&": "bitwise operators are",
                         "|": "bitwise operators are", "^": "bitwise operators are", "~": "bitwise operators are"}
_FORBIDDEN_NAMES = {"lambda": "lambda expressions", "import": "imports", "for": "comprehensions",
                    "in": "membership tests", "is": "identity tests", "yield": "yield expressions",
                    "await": "await expressions", "def": "function definitions", "class": "class definitions"}
MAX_OPERATORS = 200  # keeps the tree (and its evaluation) well inside Python's recursion limit


# ---- AST ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expression:
    """A parsed EVAL expression. ``variables`` lists ``(name, column)`` of every placeholder."""

    source: str
    tree: object
    variables: tuple[tuple[str, int], ...]

    def evaluate(self, env: Mapping[str, object]):
        """Compute the value; ``env`` maps variable names to runtime values. Raises ``ProgramError``."""
        return evaluate(self.tree, env)

    @property
    def zero_tested(self) -> frozenset[str]:
        """The variables this expression only tests for zero: every placeholder of the name is one side of
        a comparison that asks "any?" or "none?" (``{N} > 0``, ``{N} >= 1``, ``{N} == 0``, ``{N} != 0``,
        ``{N} < 1``, ``{N} <= 0``, or mirrored), never arithmetic, text or another comparison."""
        tested, other = set(), set()
        _zero_uses(self.tree, tested, other)
        return frozenset(tested - other)


_ZERO_TESTS = {(">", 0), (">=", 1), ("==", 0), ("!=", 0), ("<", 1), ("<=", 0)}
_MIRRORED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}


def _zero_uses(node, tested: set, other: set) -> None:
    """Sort the placeholders under ``node`` into those tested for zero and those used otherwise."""
    if isinstance(node, Var):
        other.add(node.name)
    elif isinstance(node, Compare) and len(node.rest) == 1:
        (op, right), left = node.rest[0], node.first
        if isinstance(left, Var) and _is_count(right) and (op, right.value) in _ZERO_TESTS:
            tested.add(left.name)
        elif isinstance(right, Var) and _is_count(left) and (_MIRRORED[op], left.value) in _ZERO_TESTS:
            tested.add(right.name)
        else:
            _zero_uses(left, tested, other)
            _zero_uses(right, tested, other)
    else:
        for child in _children(node):
            _zero_uses(child, tested, other)


def _is_count(node) -> bool:
    return isinstance(node, Const) and type(node.value) is int


def _children(node) -> tuple:
    if isinstance(node, Compare):
        return (node.first, *(operand for _, operand in node.rest))
    if isinstance(node, Text):
        return tuple(part for part in node.parts if isinstance(part, Var))
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, IfElse):
        return (node.condition, node.then, node.otherwise)
    return ()


def parse_expression(source: str, line: int = 0, column_offset: int = 0) -> Expression:
    """Parse an EVAL expression. Columns in errors are ``column_offset`` + position in ``source``."""
    if not isinstance(source, str):
        raise ProgramError.at(f"EVAL expects its expression as text; got {type(source).__name__}", line)
    if len(source) > MAX_EXPRESSION_CHARS:
        raise ProgramError.at(f"EVAL expression is {len(source)} characters; the limit is "
                              f"{MAX_EXPRESSION_CHARS}", line, column_offset + 1)
    try:
        tokens = tokenize(source, line, column_offset)
    except LexError as error:
        d = error.diagnostic
        if d.text == ":" and source[d.column - column_offset:].startswith("="):
            d = Diagnostic("assignment expressions (':=') are not allowed in EVAL", d.line, d.column, ":=",
                           "EVAL only combines values with operators")
        elif d.text in _FORBIDDEN_CHARACTERS:
            d = Diagnostic(f"{_FORBIDDEN_CHARACTERS[d.text]} ({d.text!r}) not allowed in EVAL", d.line, d.column,
                           d.text, "EVAL only combines values with operators")
        raise ProgramError(d) from None
    parser = _ExpressionParser(tokens, line)
    tree = parser.parse()
    return Expression(source, tree, tuple(parser.variables))


class _ExpressionParser:
    def __init__(self, tokens: list[Token], line: int):
        self.tokens, self.line, self.pos, self.depth, self.operators = tokens, line, 0, 0, 0
        self.variables: list[tuple[str, int]] = []

    def fail(self, message: str, token: Token, suggestion: str = ""):
        raise ProgramError(Diagnostic(message, self.line, token.column, token.text or "end", suggestion))

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def at(self, *words: str) -> bool:
        token = self.peek()
        return token.kind in (NAME, OP) and token.value in words

    def take(self) -> Token:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def node(self, node):
        """Count an operator; more than MAX_OPERATORS are refused. Returns ``node``."""
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            self.fail(f"EVAL expression has more than {MAX_OPERATORS} operators", self.peek())
        return node

    def parse(self):
        if self.peek().kind == END:
            self.fail("EVAL expression is empty", self.peek(), "e.g. expr='{ANSWER0} > 0'")
        for token in self.tokens:
            if token.kind == NAME and token.value in _FORBIDDEN_NAMES:
                self.fail(f"{_FORBIDDEN_NAMES[token.value]} are not allowed in EVAL", token)
            if token.kind == NAME and token.value.startswith("__"):
                self.fail(f"double-underscore names ({token.value}) are not allowed in EVAL", token)
        tree = self.ternary()
        if self.peek().kind != END:
            self.unexpected(self.peek())
        return tree

    def unexpected(self, token: Token):
        if token.kind == OP and token.value == "(":
            self.fail("function calls are not allowed in EVAL", token)
        if token.kind == OP and token.value == "[":
            self.fail("subscripts and lists are not allowed in EVAL", token)
        if token.kind == OP and token.value == "*":
            self.fail("'**' (power) is not allowed in EVAL", token, "use * for products")
        self.fail(f"unexpected {token.text or 'end of expression'} in EVAL", token)

    def ternary(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"EVAL expression nested deeper than {MAX_NESTING}", self.peek())
        then = self.binary_chain(0)
        if self.at("if"):
            self.take()
            condition = self.binary_chain(0)
            if not self.at("else"):
                self.fail("'x if condition' needs 'else y'", self.peek())
            self.take()
            then = self.node(IfElse(condition, then, self.ternary()))
        self.depth -= 1
        return then

    _LEVELS = (("or",), ("xor",), ("and",))

    def binary_chain(self, level: int):
        if level == len(self._LEVELS):
            return self.negation()
        left = self.binary_chain(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take().value
            left = self.node(Binary(op, left, self.binary_chain(level + 1)))
        return left

    def negation(self):
        if self.at("not"):
            self.node(self.take())
            return Unary("not", self.negation())
        return self.comparison()

    def comparison(self):
        first = self.arithmetic(("+", "-"))
        rest = []
        while self.at("==", "!=", "<", ">", "<=", ">="):
            op = self.take().value
            rest.append((op, self.arithmetic(("+", "-"))))
            self.node(None)
        return Compare(first, tuple(rest)) if rest else first

    def arithmetic(self, ops: tuple[str, ...]):
        inner = (lambda: self.arithmetic(("*", "/", "//", "%"))) if ops[0] == "+" else self.unary
        left = inner()
        while self.peek().kind == OP and self.peek().value in ops:
            op = self.take().value
            if op == "*" and self.at("*"):
                self.unexpected(self.peek())
            left = self.node(Binary(op, left, inner()))
        return left

    def unary(self):
        if self.peek().kind == OP and self.peek().value in ("-", "+"):
            op = self.node(self.take()).value
            return Unary(op, self.unary())
        return self.atom()

    def atom(self):
        token = self.take()
        if token.kind == NUMBER:
            return Const(token.value)
        if token.kind == STRING:
            return self.string(token)
        if token.kind == OP and token.value == "{":
            return self.placeholder(token)
        if token.kind == OP and token.value == "(":
            inner = self.ternary()
            if not self.at(")"):
                self.fail("missing ')' in EVAL expression", self.peek())
            self.take()
            return inner
        if token.kind == NAME:
            return self.name(token)
        self.pos -= 1
        self.unexpected(token)

    def name(self, token: Token):
        if token.value in _CONSTANTS:
            return Const(_CONSTANTS[token.value])
        if token.value in _FORBIDDEN_NAMES:
            self.fail(f"{_FORBIDDEN_NAMES[token.value]} are not allowed in EVAL", token)
        if self.at("("):
            self.fail(f"function calls are not allowed in EVAL (found {token.value}(...))", token)
        self.fail(f"unknown name {token.value!r} in EVAL", token,
                  f"write variables in braces, {{{token.value}}}, and text in quotes")

    def placeholder(self, opening: Token):
        name = self.take()
        if name.kind != NAME or not self.at("}"):
            self.fail("a placeholder is {NAME}", opening, "e.g. {ANSWER0}")
        self.take()
        self.variables.append((name.value, opening.column))
        return Var(name.value, opening.column)

    def string(self, token: Token):
        text = token.value
        if "{" not in text:
            return Const(text)
        parts: list = []
        last = 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(text[last:match.start()])
            var = Var(match.group(1), token.column + 1 + match.start())
            parts.append(var)
            self.variables.append((var.name, var.column))
            last = match.end()
        parts.append(text[last:])
        return Text(tuple(parts)) if len(parts) > 1 else Const(text)


