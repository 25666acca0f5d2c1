"""Parser of VisProg program text into the IR. One step per line: ``OUT=MODULE(name=value, ...)``.

A peer's module names are read as Loupe's (``ir.MODULE_ALIASES``: VisProg's CROP_BEHIND ... are CROP).
Values: strings in single or double quotes (backslash escapes), ints, floats (also negative),
``True``/``False``/``None``, lists ``[...]`` and variable names. ``#`` comments and blank lines are
ignored. Nothing is ever evaluated: the text is tokenized and read by a small recursive-descent parser.
Every error in the text is reported at once, each with its line, column, offending text and a hint.
"""

from __future__ import annotations

import re

from loupe.programs.errors import Diagnostic, ProgramError
from loupe.programs.ir import MODULE_ALIASES, Arg, Program, Ref, Span, Step, Value
from loupe.programs.lexer import END, NAME, NUMBER, OP, STRING, LexError, Token, tokenize

MAX_PROGRAM_CHARS = 200_000
MAX_LIST_DEPTH = 8
_CONSTANTS = {"True": True, "False": False, "None": None}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits at \f, \x1c, \u2028 ...


class _SyntaxError(Exception):
    def __init__(self, message: str, token: Token, suggestion: str = ""):
        super().__init__(message)
        self.message, self.token, self.suggestion = message, token, suggestion


def parse_program(text: str) -> Program:
    """Parse VisProg program text. Raises ``ProgramError`` listing every syntax error."""
    if not isinstance(text, str):
        raise ProgramError.at(f"a program is text; got {type(text).__name__}")
    if len(text) > MAX_PROGRAM_CHARS:
        raise ProgramError.at(f"program is {len(text)} characters long; the limit is {MAX_PROGRAM_CHARS}")
    steps: list[Step] = []
    problems: list[Diagnostic] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        try:
            tokens = tokenize(line, number)
            if tokens[0].kind != END:
                steps.append(_LineParser(tokens, number).step())
        except LexError as error:
            problems.append(error.diagnostic)
        except _SyntaxError as error:
            shown = error.token.text or "end of line"
            problems.append(Diagnostic(error.message, number, error.token.column, shown, error.suggestion))
    if problems:
        raise ProgramError(problems)
    if not steps:
        raise ProgramError.at("the program has no steps", suggestion="write one step per line, "
                              "e.g. BOX0=LOC(image=IMAGE,object='dog')")
    return Program(tuple(steps), text)


class _LineParser:
    def __init__(self, tokens: list[Token], line: int):
        self.tokens, self.line, self.pos = tokens, line, 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str, text: str | None, message: str, suggestion: str = "") -> Token:
        token = self.peek()
        if token.kind != kind or (text is not None and token.value != text):
            raise _SyntaxError(message, token, suggestion)
        return self.take()

    def span(self, token: Token) -> Span:
        return Span(self.line, token.column)

    def step(self) -> Step:
        output = self.expect(NAME, None, "a step starts with the name of its output variable",
                             "write OUT=MODULE(arg=value, ...)")
        if output.text in _CONSTANTS:
            raise _SyntaxError(f"{output.text} is a constant and cannot be assigned", output,
                               "choose a variable name, e.g. ANSWER0")
        self.expect(OP, "=", f"expected '=' after the output variable {output.text}",
                    "write OUT=MODULE(arg=value, ...)")
        module = self.expect(NAME, None, "expected a module name after '='",
                             "e.g. LOC, COUNT, VQA, EVAL, RESULT")
        self.expect(OP, "(", f"expected '(' after the module name {module.text}",
                    f"write {module.text}(arg=value, ...)")
        args = self.arguments()
        self.expect(END, None, "unexpected text after the closing ')'", "write one step per line")
        name = MODULE_ALIASES.get(module.text, module.text)  # VisProg's CROP_BEHIND ... run as CROP
        return Step(output.text, name, tuple(args), self.span(output), self.span(module))

    def arguments(self) -> list[Arg]:
        args: list[Arg] = []
        while not (self.peek().kind == OP and self.peek().value == ")"):
            if self.peek().kind == END:
                raise _SyntaxError("missing ')' at the end of the step", self.peek(), "close the call with ')'")
            name = self.expect(NAME, None, "expected an argument name", "write arguments as name=value")
            self.expect(OP, "=", f"expected '=' after the argument name {name.text}",
                        f"write {name.text}=value")
            value_token = self.peek()
            args.append(Arg(name.text, self.value(0), self.span(name), self.span(value_token)))
            if self.peek().kind == OP and self.peek().value == ",":
                self.take()
            elif self.peek().kind == END:
                raise _SyntaxError("missing ')' at the end of the step", self.peek(), "close the call with ')'")
            elif not (self.peek().kind == OP and self.peek().value == ")"):
                raise _SyntaxError("expected ',' or ')' after an argument", self.peek(),
                                   "separate arguments with commas; quote text values")
        self.take()
        return args

    def value(self, depth: int) -> Value:
        token = self.take()
        if token.kind == STRING:
            return token.value
        if token.kind == NUMBER:
            return token.value
        if token.kind == OP and token.value == "-" and self.peek().kind == NUMBER:
            return -self.take().value
        if token.kind == NAME:
            if token.value in _CONSTANTS:
                return _CONSTANTS[token.value]
            return Ref(token.text, self.span(token))
        if token.kind == OP and token.value == "[":
            return self.list_value(token, depth + 1)
        what = token.text or "end of line"
        raise _SyntaxError(f"expected a value, found {what}", token,
                           "a value is a 'string', a number, True/False/None, a [list] or a variable name")

    def list_value(self, opening: Token, depth: int) -> tuple:
        if depth > MAX_LIST_DEPTH:
            raise _SyntaxError(f"lists nested deeper than {MAX_LIST_DEPTH}", opening)
        items = []
        while not (self.peek().kind == OP and self.peek().value == "]"):
            if self.peek().kind == END:
                raise _SyntaxError("missing ']' to close the list", opening, "close the list with ']'")
            items.append(self.value(depth))
            if self.peek().kind == OP and self.peek().value == ",":
                self.take()
            elif self.peek().kind == END:
                raise _SyntaxError("missing ']' to close the list", opening, "close the list with ']'")
            elif not (self.peek().kind == OP and self.peek().value == "]"):
                raise _SyntaxError("expected ',' or ']' in a list", self.peek())
        self.take()
        return tuple(items)
