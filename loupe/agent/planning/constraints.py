"""Constrained decoding of VisProg programs: is this text a valid beginning of a program?

``ProgramPrefix(registry, inputs)(text)`` is True when ``text`` can still be extended into a program
that parses and checks: only registered module names, each module's own argument names, variables
that are defined (and of the argument's type), well-formed literals, one step per line, nothing after
RESULT. ``choices`` can restrict the text of some arguments (e.g. ``object`` to phrases of the user's
query), which keeps a small model from inventing object names. Complete lines are checked once and
remembered, so the test for a new token costs only the scan of the current line.

There is one grammar: complete lines go through the program parser, and the partial current line is
read with the lexer's own token definitions (``loupe.programs.lexer``: names, numbers, string literals with
their escapes), so what the constraint accepts cannot drift from what the parser reads.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from loupe.programs.checker import DEFAULT_INPUTS
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Ref
from loupe.programs.lexer import NAME_PATTERN, NUMBER_PATTERN, QUOTES, read_string_prefix
from loupe.programs.parser import parse_program
from loupe.programs.safe_eval import parse_expression
from loupe.programs.values import ValueType

_STRING_TYPES = (ValueType.TEXT, ValueType.ANY)
_EXPRESSION_WORDS = ("and", "or", "not", "xor", "if", "else", "True", "False", "None")
STANDARD_OUTPUTS = ("BOX", "OBJ", "ANSWER", "IMAGE", "LIST", "TEXT", "FINAL_RESULT")  # + digits, e.g. BOX0


def output_name_ok(name: str, complete: bool, bases=STANDARD_OUTPUTS) -> bool:
    """``BOX0``, ``ANSWER12``, ``FINAL_RESULT`` (and their prefixes while ``complete`` is False)."""
    for base in bases:
        digits = name[len(base):]
        if name.startswith(base) and ((digits.isdigit() and len(digits) <= 2) or (base == "FINAL_RESULT" and
                                                                               name == base)
                                      or (not complete and name == base)):
            return True
        if not complete and base.startswith(name):
            return True
    return False


class ProgramPrefix:
    def __init__(self, registry, inputs: Mapping[str, ValueType] | None = None,
                 choices: Mapping[str, Sequence[str]] | None = None, max_line_chars: int = 400,
                 output_names: Sequence[str] | None = STANDARD_OUTPUTS):
        self.registry = registry
        self.inputs = dict(DEFAULT_INPUTS if inputs is None else inputs)
        self.choices = {k: tuple(v) for k, v in (choices or {}).items()}
        self.max_line_chars = max_line_chars
        self.output_names = output_names  # None: any identifier
        self._lines_memo: dict[str, dict[str, ValueType] | None] = {"": dict(self.inputs)}

    def __call__(self, text: str) -> bool:
        if text.startswith("\n") or "\n\n" in text.rstrip("\n") or "\n\n\n" in text:
            return False  # no blank lines before or inside the program
        if text.endswith("\n\n") and not self.is_complete(text):
            return False  # a blank line only after the RESULT step
        head, _, current = text.rpartition("\n")
        types = self._types_after(head)
        if types is None or "\0done" in types:
            return types is not None and current.strip() == ""
        return len(current) <= self.max_line_chars and _LineScanner(self, types, current).ok()

    def is_complete(self, text: str) -> bool:
        """The program is whole: its RESULT step is written (and nothing but blank text after it)."""
        types = self._types_after(text.rstrip("\n")) if text.strip() else None
        return types is not None and "\0done" in types

    # ---- complete lines ----------------------------------------------------------------------

    def _types_after(self, head: str) -> dict[str, ValueType] | None:
        """Variable types after the complete lines ``head``; None when they are not a valid program start."""
        if head not in self._lines_memo:
            before, newline, last = head.rpartition("\n")
            types = self._types_after(before) if newline else dict(self.inputs)
            self._lines_memo[head] = None if types is None else self._add_line(types, last)
        return self._lines_memo[head]

    def _add_line(self, types: dict[str, ValueType], line: str) -> dict[str, ValueType] | None:
        if not line.strip() or "\0done" in types:
            return types if not line.strip() else None
        try:
            step = parse_program(line).steps[0]
        except ProgramError:
            return None
        if step.module not in self.registry or step.output in types:
            return None
        tool = self.registry.tool_class(step.module)
        arg_types = {}
        for arg in step.args:
            if arg.name not in tool.inputs:
                return None
            if isinstance(arg.value, Ref):
                if arg.value.name not in types or not tool.inputs[arg.name].type.accepts(types[arg.value.name]):
                    return None
                arg_types[arg.name] = types[arg.value.name]
        if any(p.required and n not in arg_types and n not in step.kwargs for n, p in tool.inputs.items()):
            return None
        if tool.check(step.kwargs, 1) or any(n not in types for n, _ in tool.implicit_reads(step.kwargs)):
            return None
        updated = dict(types)
        updated[step.output] = tool.output_type(arg_types)
        updated["\0calls"] = types.get("\0calls", ()) + (line[line.index("=") + 1:].strip(),)
        if step.module == "RESULT":
            updated["\0done"] = ValueType.ANY
        return updated


class _LineScanner:
    """Scans one partial line: ``OUT=MODULE(name=value, ...)``; any prefix of that is fine."""

    def __init__(self, owner: ProgramPrefix, types: dict[str, ValueType], line: str):
        self.owner, self.types, self.line, self.pos = owner, types, line, 0

    def at_end(self) -> bool:
        return self.pos >= len(self.line)

    def skip_spaces(self) -> None:
        """Generated programs are written without spaces (VisProg's style): a space is not skipped, so a
        small model cannot wander into runs of blanks."""

    def name(self) -> str:
        match = NAME_PATTERN.match(self.line, self.pos)
        if not match:
            return ""
        self.pos = match.end()
        return match.group()

    def literal(self, char: str) -> bool | None:
        """True: consumed ``char``; None: the line ended (a valid prefix); False: something else."""
        self.skip_spaces()
        if self.at_end():
            return None
        if self.line[self.pos] != char:
            return False
        self.pos += 1
        return True

    def ok(self) -> bool:
        self.skip_spaces()
        output = self.name()
        names = self.owner.output_names
        if self.at_end():
            return output == "" or (output not in self.types and
                                    (names is None or output_name_ok(output, False, names)))
        if not output or output in self.types or (names is not None and not output_name_ok(output, True, names)):
            return False
        found = self.literal("=")
        if found is not True:
            return found is None
        self.skip_spaces()
        module = self.name()
        modules = [m for m in self.owner.registry.names() if self.satisfiable(self.owner.registry.tool_class(m))]
        if self.at_end():
            return any(m.startswith(module) for m in modules)
        if module not in modules:
            return False
        found = self.literal("(")
        if found is not True:
            return found is None
        return self.arguments(self.owner.registry.tool_class(module))

    def arguments(self, tool) -> bool:
        used: set[str] = set()
        while True:
            self.skip_spaces()
            if self.at_end():
                return True
            if self.line[self.pos] == ")":
                if self.line[self.pos - 1] == ",":
                    return False  # no trailing comma
                self.pos += 1
                missing = [n for n, p in tool.inputs.items() if p.required and n not in used]
                call = self.line[self.line.index("=") + 1:self.pos]
                return not missing and self.at_end() and call not in self.types.get("\0calls", ())
            name = self.name()
            remaining = [n for n in tool.inputs if n not in used and self.has_value(tool.inputs[n])]
            if self.at_end():
                return any(n.startswith(name) for n in remaining)
            if name not in remaining:
                return False
            found = self.literal("=")
            if found is not True:
                return found is None
            used.add(name)
            value = self.value(tool.inputs[name], name)
            if value is not True:
                return value is None
            if not [n for n in tool.inputs if n not in used and self.has_value(tool.inputs[n])] and \
                    self.line[self.line.index("=") + 1:self.pos] + ")" in self.types.get("\0calls", ()):
                return False  # this value would only repeat an earlier call
            self.skip_spaces()
            if self.at_end():
                return True
            if self.line[self.pos] == ",":
                if not [n for n in tool.inputs if n not in used and self.has_value(tool.inputs[n])]:
                    return False  # nothing left to pass
                self.pos += 1
            elif self.line[self.pos] != ")":
                return False

    def variables_for(self, param) -> list[str]:
        return [n for n, t in self.types.items() if not n.startswith("\0") and param.type.accepts(t)]

    def has_value(self, param) -> bool:
        """Whether some value can be written for ``param`` here (a literal, or a variable of its type)."""
        if param.type in (ValueType.IMAGE, ValueType.OBJECTS):
            return bool(self.variables_for(param))
        return True

    def satisfiable(self, tool) -> bool:
        """A module whose required inputs can all be given now (no Objects yet: no COUNT), and, when they
        all take variables, in some way not already called (no second COUNT(box=BOX0))."""
        required = {n: p for n, p in tool.inputs.items() if p.required}
        if not all(self.has_value(p) for p in required.values()):
            return False
        if not all(p.type in (ValueType.IMAGE, ValueType.OBJECTS) for p in required.values()) or \
                any(not p.required for p in tool.inputs.values()):
            return True
        done = set(self.types.get("\0calls", ()))
        calls = [""]
        for name, param in required.items():
            calls = [f"{c},{name}={v}" if c else f"{name}={v}" for c in calls for v in self.variables_for(param)]
        return any(f"{tool.name}({c})" not in done for c in calls)

    def value(self, param, arg_name: str) -> bool | None:
        """True: a complete value; None: the line ended inside it; False: invalid."""
        self.skip_spaces()
        if self.at_end():
            return None
        char = self.line[self.pos]
        if char in QUOTES:
            return self.string(param, arg_name) if param.type in _STRING_TYPES else False
        if char == "[":
            return self.text_list() if param.type in (ValueType.TEXT_LIST, ValueType.ANY) else False
        if char.isdigit() or char in "-.":
            return self.number() if param.type in (ValueType.NUMBER, ValueType.ANY) else False
        word = self.name()
        if not word:
            return False
        names = [n for n, t in self.types.items() if not n.startswith("\0") and param.type.accepts(t)]
        names += ["None"] if not param.required else []
        names += ["True", "False"] if param.type in (ValueType.BOOL, ValueType.ANY) else []
        if self.at_end():
            return None if any(n.startswith(word) for n in names) else False
        return word in names

    def string(self, param, arg_name: str) -> bool | None:
        """A string literal as the lexer reads it (escapes decoded); its value is checked against the
        argument's choices (a prefix of one while the literal is open)."""
        content, self.pos, closed = read_string_prefix(self.line, self.pos)
        if closed:
            return self._allowed(arg_name, content, complete=True)
        return None if self._allowed(arg_name, content, complete=False) else False

    def _allowed(self, arg_name: str, content: str, complete: bool) -> bool:
        if arg_name == "expr":
            return self._expression_ok(content, complete)
        choices = self.owner.choices.get(arg_name)
        if not choices:
            return True
        if complete:
            return content in choices
        return any(c.startswith(content) for c in choices)

    def _expression_ok(self, expr: str, complete: bool) -> bool:
        """An EVAL expression may hold only placeholders of defined variables, literals, operators and the
        words and/or/not/xor/if/else/True/False/None (a trailing partial word: a prefix of one)."""
        if not self._placeholders_defined(expr, complete):
            return False
        if complete:
            try:
                parse_expression(expr)
            except ProgramError:
                return False
            return True
        words = re.findall(r"'[^']*'?|\"[^\"]*\"?|\{[^{}]*\}?|[A-Za-z_]+", expr)
        bare = [w for w in words if w[0] not in "'\"{"]
        if not bare:
            return True
        last_is_partial = bool(re.search(r"[A-Za-z_]$", expr)) and expr.endswith(bare[-1])
        finished = bare[:-1] if last_is_partial else bare
        if any(w not in _EXPRESSION_WORDS for w in finished):
            return False
        return not last_is_partial or any(k.startswith(bare[-1]) for k in _EXPRESSION_WORDS)

    def _placeholders_defined(self, expr: str, complete: bool) -> bool:
        """Every ``{NAME}`` in an EVAL expression names a defined variable (a trailing ``{NA`` a prefix)."""
        names = [n for n in self.types if not n.startswith("\0")]
        for match in re.finditer(r"\{([^{}]*)(\}|$)", expr):
            name, closed = match.group(1), match.group(2) == "}"
            if closed and name not in names:
                return False
            if not closed and (complete or not any(n.startswith(name) for n in names)):
                return False
        return True

    def number(self) -> bool | None:
        """An optional minus (the parser's unary minus), then a number literal of the lexer."""
        if self.line.startswith("-", self.pos):
            self.pos += 1
        match = NUMBER_PATTERN.match(self.line, self.pos)
        if match is None:
            rest = self.line[self.pos:]
            self.pos = len(self.line) if rest in ("", ".") else self.pos
            return None if self.at_end() else False
        self.pos = match.end()
        return None if self.at_end() else True

    def text_list(self) -> bool | None:
        self.pos += 1
        while True:
            self.skip_spaces()
            if self.at_end():
                return None
            if self.line[self.pos] == "]":
                self.pos += 1
                return True
            if self.line[self.pos] not in QUOTES:
                return False
            item = self.string(_TEXT_PARAM, "")
            if item is not True:
                return item
            self.skip_spaces()
            if self.at_end():
                return None
            if self.line[self.pos] == ",":
                self.pos += 1
            elif self.line[self.pos] != "]":
                return False


class _Param:
    type = ValueType.TEXT
    required = True


_TEXT_PARAM = _Param()


def query_phrases(query: str, max_words: int = 4) -> list[str]:
    """Every run of 1..``max_words`` words of the query, lowercased (candidate object names)."""
    words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 1 or w.isdigit()]
    return sorted({" ".join(words[i:i + n]) for n in range(1, max_words + 1) for i in range(len(words) - n + 1)})
