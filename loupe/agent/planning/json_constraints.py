"""Constrained decoding of HuggingGPT task lists: is this text a valid beginning of one?

A small pushdown scanner over JSON (objects, arrays, strings, integers, true/false/null) that accepts
any prefix of a JSON list of task objects, plus a few schema rules that keep a small model on track:
a task's keys are ``task``, ``id``, ``dep`` and ``args``; its ``task`` names a known task or module;
``args`` maps argument names to strings (no escapes) or integers; ``dep`` lists earlier ids or -1;
at most single spaces between tokens and no line breaks; nothing after the closing ``]``.

The list always ends, whatever the model prefers, long before any token budget: task ``k`` has id
``k``; a task may not repeat an earlier one (same task and arguments) nor name an argument twice;
strings are at most ``MAX_STRING`` characters; after a task that produces the answer (``EVAL``,
``RESULT``) or after ``max_tasks`` tasks, only ``]`` may follow. ``task_bound`` derives that bound
from the query: what it asks about, not a fixed budget.
"""

from __future__ import annotations

import re

_TASK_KEYS = ("task", "id", "dep", "args")
_ARG_NAMES = ("image", "text", "labels", "label", "object", "objects", "box", "mask", "query", "question",
              "prompt", "emoji", "categories", "max", "expr", "var")
_LITERALS = ("true", "false", "null")
_NUMBER = re.compile(r"-?\d*")
FINAL_TASKS = ("EVAL", "RESULT")
MAX_STRING = 160
MIN_TASKS, MAX_TASKS = 3, 12


def task_bound(query: str) -> int:
    """How many tasks a question may need: a detection and a count (or an edit) per thing it names,
    plus two (a combining step and one more), within ``MIN_TASKS..MAX_TASKS``."""
    from loupe.agent.planning.candidates import content_words

    return max(MIN_TASKS, min(MAX_TASKS, 2 * len(content_words(query)) + 2))


class TaskListPrefix:
    """``prefix_ok`` for task lists of at most ``max_tasks`` tasks (see the module docstring)."""

    def __init__(self, task_names, max_tasks: int = MAX_TASKS, final_tasks=FINAL_TASKS):
        self.task_names = tuple(sorted(set(task_names)))
        self.max_tasks, self.final_tasks = max_tasks, tuple(final_tasks)

    def __call__(self, text: str) -> bool:
        try:
            return self._scanner(text).run() is not None
        except _Invalid:
            return False

    def is_complete(self, text: str) -> bool:
        """The text is a whole task list (the closing ``]`` written)."""
        try:
            return self._scanner(text).run() is True
        except _Invalid:
            return False

    def _scanner(self, text: str) -> _Scanner:
        return _Scanner(text, self.task_names, self.max_tasks, self.final_tasks)


class _Invalid(Exception):
    pass


class _Scanner:
    def __init__(self, text: str, task_names, max_tasks: int = MAX_TASKS, final_tasks=FINAL_TASKS):
        self.text, self.pos, self.task_names = text, 0, task_names
        self.max_tasks, self.final_tasks = max_tasks, final_tasks
        self.current_id: int | None = None
        self.keys_used: set[str] = set()
        self.deps_seen: set[str] = set()
        self.count, self.final_written = 0, False
        self.current_task = ""
        self.seen: set[tuple[str, str]] = set()
        self.arg_names: set[str] = set()

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def spaces(self) -> None:
        """At most one space between tokens, and no line breaks: the list is written on one line."""
        if not self.at_end() and self.text[self.pos] == " ":
            self.pos += 1
        if not self.at_end() and self.text[self.pos] in " \n\t\r":
            raise _Invalid

    def expect(self, char: str) -> bool:
        """True: consumed; False: the text ended first (a valid prefix). Raises on anything else."""
        self.spaces()
        if self.at_end():
            return False
        if self.text[self.pos] != char:
            raise _Invalid
        self.pos += 1
        return True

    def run(self) -> bool | None:
        """True: a complete list; False: a valid prefix of one; raises ``_Invalid`` otherwise."""
        if not self.expect("["):
            return False
        if not self.sequence("]", self.task, lambda: self.count < self.max_tasks and not self.final_written):
            return False
        self.spaces()
        if not self.at_end():
            raise _Invalid
        return True

    def sequence(self, closing: str, item, more=lambda: True) -> bool:
        """Items separated by commas up to ``closing``; False when the text ends inside."""
        self.spaces()
        if self.at_end():
            return False
        if self.text[self.pos] == closing:
            self.pos += 1
            return True
        while True:
            if not item():
                return False
            self.spaces()
            if self.at_end():
                return False
            char = self.text[self.pos]
            self.pos += 1
            if char == closing:
                return True
            if char != "," or not more():
                raise _Invalid

    def task(self) -> bool:
        if not self.expect("{"):
            return False
        self.current_id, self.keys_used, self.current_task = None, set(), ""
        self.count += 1
        done = self.sequence("}", self.task_member, lambda: len(self.keys_used) < len(_TASK_KEYS))
        if done and self.current_task in self.final_tasks:
            self.final_written = True  # the answer is computed: the list ends here
        return done

    def task_member(self) -> bool:
        key = self.string(tuple(k for k in _TASK_KEYS if k not in self.keys_used))
        if key is None:
            return False
        self.keys_used.add(key)
        if not self.expect(":"):
            return False
        if key == "task":
            name = self.string(self.task_names)
            self.current_task = name or ""
            return name is not None
        if key == "id":
            return self.task_id()
        if key == "dep":
            self.deps_seen = set()
            return self.expect("[") and self.sequence("]", self.dependency)
        return self.arguments()

    def task_id(self) -> bool:
        """Task k (from 0) has the id k."""
        start = self.pos
        done = self.integer()
        digits = self.text[start:self.pos].strip()
        wanted = str(self.count - 1)
        if (done and digits != wanted) or not wanted.startswith(digits):
            raise _Invalid
        if done:
            self.current_id = int(digits)
        return done

    def arguments(self) -> bool:
        """The ``args`` object; a task with the same name and arguments as an earlier one is refused."""
        self.arg_names = set()
        if not self.expect("{"):
            return False
        start = self.pos - 1
        if not self.sequence("}", self.argument):
            return False
        signature = (self.current_task, re.sub(r"\s", "", self.text[start:self.pos]))
        if signature in self.seen:
            raise _Invalid
        self.seen.add(signature)
        return True

    def argument(self) -> bool:
        """``"name": "text"`` or ``"name": 3``, the name one a task or module takes."""
        name = self.string(tuple(n for n in _ARG_NAMES if n not in self.arg_names))
        if name is None or not self.expect(":"):
            return False
        self.arg_names.add(name)
        self.spaces()
        if self.at_end():
            return False
        if self.text[self.pos] == '"':
            return self.string() is not None
        return self.integer()

    def string(self, choices=None) -> str | None:
        """A string literal; with ``choices`` its content must be (a prefix of) one. None: text ended."""
        if not self.expect('"'):
            return None
        start = self.pos
        while not self.at_end():
            char = self.text[self.pos]
            if char == "\\":
                raise _Invalid  # task lists need no escapes; a small model misuses them
            if char == '"':
                content = self.text[start:self.pos]
                self.pos += 1
                if choices is not None and content not in choices:
                    raise _Invalid
                return content
            if char == "\n" or self.pos - start >= MAX_STRING:
                raise _Invalid
            self.pos += 1
        if choices is not None and not any(c.startswith(self.text[start:]) for c in choices):
            raise _Invalid
        return None

    def dependency(self) -> bool:
        """-1 (none) or the id of an earlier task (ids grow along the list); a partial number must still
        be able to become one."""
        self.spaces()
        start = self.pos
        done = self.integer()
        digits = self.text[start:self.pos]
        if self.current_id is not None and digits:
            choices = ["-1"] + [str(v) for v in range(self.current_id)]
            open_choices = [c for c in choices if c not in self.deps_seen]  # each dependency once
            if not any(c == digits if done else c.startswith(digits) for c in open_choices):
                raise _Invalid
        if done:
            self.deps_seen.add(digits)
        return done

    def integer(self) -> bool:
        self.spaces()
        match = _NUMBER.match(self.text, self.pos)
        self.pos = match.end()
        digits = match.group().lstrip("-")
        if len(digits) > 3 or (len(digits) > 1 and digits[0] == "0"):
            raise _Invalid  # task ids are small; JSON has no leading zeros
        if self.at_end():
            return False
        if not any(c.isdigit() for c in match.group()):
            raise _Invalid
        return True

    def value(self) -> bool:
        self.spaces()
        if self.at_end():
            return False
        char = self.text[self.pos]
        if char == '"':
            return self.string() is not None
        if char == "{":
            self.pos += 1
            return self.sequence("}", lambda: self.string() is not None and self.expect(":") and self.value())
        if char == "[":
            self.pos += 1
            return self.sequence("]", self.value)
        if char == "-" or char.isdigit():
            return self.integer()
        word = re.match(r"[a-z]*", self.text[self.pos:]).group()
        self.pos += len(word)
        if self.at_end():
            if not any(lit.startswith(word) for lit in _LITERALS):
                raise _Invalid
            return False
        if word not in _LITERALS:
            raise _Invalid
        return True
