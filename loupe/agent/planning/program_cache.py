"""Reuse the program of an earlier, successful query for a new query of the same shape, without an LLM.

When a program succeeds for a query, ``store`` learns a *template*: each word span of the query that is
also a text argument of the program (``object='horses'``, ``query='red bus'``) becomes a slot in both::

    "How many horses are there?"          ->  pattern  "how many {0} are there"
    BOX0=LOC(image=IMAGE,object='horses')  ->  BOX0=LOC(image=IMAGE,object={0})

``lookup`` matches a new query against the templates learned with the same tool set: the words outside
the slots must be the same (lowercase; punctuation and whitespace only separate words). The slots are
filled with the new query's words, the program is rebuilt in the IR and rendered with
``loupe.programs.render`` (a slot value is always a quoted string literal, never code), then parsed and
checked against the registry before it is returned. A changed registry changes ``toolset_key`` and so
misses every older template. Templates live in SQLite with numbered, append-only schema migrations.
Whether to use the cache at all is the caller's choice (its own flag).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from loupe.agent.planning.query_facts import typed_shape
from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import program_from_json, program_to_json
from loupe.programs.parser import parse_program
from loupe.programs.render import render

DEFAULT_FILENAME = "program_cache.sqlite"
MIN_FIXED_WORDS = 2      # a template with slots keeps at least this many words (else: exact match only)
MAX_EXTRA_WORDS = 3      # a slot may take this many more words than the span it was learned from
MAX_SUFFIX = 2           # punctuation kept after a literal's last word ('What colour is it?')
_NOT_SLOTTED_MODULES = {"EVAL", "RESULT"}
_WORD = re.compile(r"[^\W_]+")
_SEPARATORS = frozenset({"and", "or", "not", "than", "but", "no", "nor", "neither", "either", "without", "except",
                         "none", "both", "more", "fewer", "less", "t"})
_SLOT = re.compile(r"\{(\d+)\}")
_MIGRATIONS = (  # append only: the schema's version is the number of migrations applied
    """CREATE TABLE templates (
           id INTEGER PRIMARY KEY,
           toolset TEXT NOT NULL,
           pattern TEXT NOT NULL,          -- normalised words, slots as {0}, {1}, ...
           fixed_words INTEGER NOT NULL,
           template TEXT NOT NULL,         -- JSON: {"slot_words": [...], "program": program JSON with slots}
           query TEXT NOT NULL,            -- the query it was learned from
           created REAL NOT NULL,
           used REAL NOT NULL,
           hits INTEGER NOT NULL DEFAULT 0,
           UNIQUE (toolset, pattern))""",
    "CREATE INDEX templates_by_toolset ON templates (toolset, fixed_words)",
)


@dataclass(frozen=True)
class CacheHit:
    """A reusable program: its text (checked), the template it came from, and the values of its slots."""

    program: str
    template_id: int
    slots: tuple[str, ...]


def toolset_key(registry) -> str:
    """A hash of the registered tool names and signatures: a changed tool set changes the key."""
    signatures = "\n".join(registry.tool_class(name).signature() for name in registry.names())
    return hashlib.sha256(signatures.encode("utf-8")).hexdigest()[:32]


def default_cache_path() -> Path:
    from loupe.tools.settings import cache_root

    return cache_root() / DEFAULT_FILENAME


class ProgramCache:
    """Templates learned from successful programs, in the SQLite file ``path``; safe to share between threads.

    ``registry`` checks a filled program before it is reused (default: ``default_registry()``, built on
    first use); ``toolset_key`` must come from that same registry (see ``for_registry``).
    """

    def __init__(self, path: Path | str | None, toolset_key: str, registry=None):
        if not isinstance(toolset_key, str) or not toolset_key:
            raise ValueError("ProgramCache needs a non-empty toolset_key (see program_cache.toolset_key)")
        self.path = Path(path) if path is not None else default_cache_path()
        self.toolset_key = toolset_key
        self._registry = registry
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    @classmethod
    def for_registry(cls, registry, path: Path | str | None = None) -> ProgramCache:
        return cls(path, toolset_key(registry), registry)

    # ---- the API ----------------------------------------------------------------------------------

    def lookup(self, query: str) -> CacheHit | None:
        """The checked program of the most specific template that ``query`` fills, or None."""
        words = _words(query)
        if not words:
            return None
        with self._lock:
            rows = self._db().execute(
                "SELECT id, pattern, template, query FROM templates WHERE toolset = ? AND fixed_words <= ? "
                "ORDER BY fixed_words DESC, used DESC", (self.toolset_key, len(words))).fetchall()
        shape = typed_shape(query)
        for template_id, pattern, template, learned_from in rows:
            if typed_shape(learned_from) != shape:
                continue  # same words around the slots, different typed fillings: not the same program
            hit = self._reuse(query, words, template_id, pattern, json.loads(template))
            if hit is not None:
                with self._lock:
                    self._db().execute("UPDATE templates SET hits = hits + 1, used = ? WHERE id = ?",
                                       (time.time(), template_id))
                    self._db().commit()
                return hit
        return None

    def store(self, query: str, program_text: str) -> int | None:
        """Learn a template from a query and the program that succeeded for it; returns its id.

        Returns None when the query has no words. Raises ``ProgramError`` if the program does not parse.
        A template with the same pattern (and tool set) is replaced: the latest success wins.
        """
        learned = _learn(query, program_text)
        if learned is None:
            return None
        pattern, fixed_words, template = learned
        now = time.time()
        with self._lock:
            db = self._db()
            db.execute(
                "INSERT INTO templates (toolset, pattern, fixed_words, template, query, created, used) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (toolset, pattern) DO UPDATE SET "
                "template = excluded.template, query = excluded.query, used = excluded.used",
                (self.toolset_key, pattern, fixed_words, json.dumps(template), query, now, now))
            db.commit()
            (template_id,) = db.execute("SELECT id FROM templates WHERE toolset = ? AND pattern = ?",
                                        (self.toolset_key, pattern)).fetchone()
        return template_id

    def seed(self, pairs) -> int:
        """Learn templates from ``(query, program_text)`` pairs (e.g. the curated library) in one
        transaction, keeping any template already learned for the same pattern; returns how many are new."""
        rows = []
        now = time.time()
        for query, program_text in pairs:
            learned = _learn(query, program_text)
            if learned is not None:
                pattern, fixed_words, template = learned
                rows.append((self.toolset_key, pattern, fixed_words, json.dumps(template), query, now, now))
        with self._lock:
            db = self._db()
            before = db.total_changes
            db.executemany(
                "INSERT INTO templates (toolset, pattern, fixed_words, template, query, created, used) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (toolset, pattern) DO NOTHING", rows)
            db.commit()
            return db.total_changes - before

    def learned(self) -> list[tuple[str, str]]:
        """``(query, program text)`` of every template of this tool set, each filled from its own query
        (for the ranking planner's sketches)."""
        with self._lock:
            rows = self._db().execute("SELECT id, pattern, template, query FROM templates WHERE toolset = ?",
                                      (self.toolset_key,)).fetchall()
        pairs = []
        for template_id, pattern, template, query in rows:
            hit = self._reuse(query, _words(query), template_id, pattern, json.loads(template))
            if hit is not None:
                pairs.append((query, hit.program))
        return pairs

    def clear(self) -> None:
        """Forget every template (of every tool set) in this file."""
        with self._lock:
            self._db().execute("DELETE FROM templates")
            self._db().commit()

    def __len__(self) -> int:
        """How many templates this tool set has."""
        with self._lock:
            return self._db().execute("SELECT COUNT(*) FROM templates WHERE toolset = ?",
                                      (self.toolset_key,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> ProgramCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- internals --------------------------------------------------------------------------------

    def _reuse(self, query: str, words, template_id: int, pattern: str, template: dict) -> CacheHit | None:
        slots = _match(pattern, tuple(template["slot_words"]), query, words)
        if slots is None or any(_SEPARATORS & set(_normal(_words(slot))) for slot in slots):
            return None  # a slot never takes in 'and', 'not', 'than', 'or': those change the program
        try:
            program = program_from_json(_fill(template["program"], slots))
            text = render(program)
            check(parse_program(text), self._checking_registry())
        except (ProgramError, ValueError, TypeError, KeyError):
            return None  # a template that no longer fits (or a value that breaks a tool's check): not reused
        return CacheHit(text, template_id, slots)

    def _checking_registry(self):
        if self._registry is None:
            from loupe.tools.registry import default_registry

            self._registry = default_registry()
        return self._registry

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")     # readers in other processes do not block writers
            connection.execute("PRAGMA synchronous=NORMAL")   # a cache: losing the last write on power loss is fine
            _migrate(connection)
            self._connection = connection
        return self._connection


def _migrate(connection: sqlite3.Connection) -> None:
    """Apply the migrations this file has not had yet, each in its own transaction."""
    connection.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    (done,) = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    if done > len(_MIGRATIONS):
        raise RuntimeError(f"the program cache has schema version {done}, newer than this Loupe knows "
                           f"({len(_MIGRATIONS)}); upgrade Loupe or delete the cache file")
    for version, statement in enumerate(_MIGRATIONS[done:], start=done + 1):
        with connection:
            connection.execute(statement)
            connection.execute("INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                               (version, time.time()))


# ---- templates: learning, matching, filling -----------------------------------------------------------

def _words(text: str) -> list[re.Match]:
    """The words of ``text`` (letters and digits; everything else separates), as matches with positions."""
    return list(_WORD.finditer(text)) if isinstance(text, str) else []


def _normal(words) -> tuple[str, ...]:
    return tuple(w.group().lower() for w in words)


def _learn(query: str, program_text: str) -> tuple[str, int, dict] | None:
    """(pattern, number of fixed words, template) for ``query`` and its program, or None if no words."""
    program = parse_program(program_text)
    query_words = _normal(_words(query))
    if not query_words:
        return None
    program_json = program_to_json(program)
    literals = _slottable_literals(program)
    spans = _slot_spans(query_words, literals)
    if spans and (_adjacent(spans) or len(query_words) - sum(e - s for s, e in spans) < MIN_FIXED_WORDS):
        spans = []  # too little would stay fixed: learn the exact query instead
    tokens: list[str] = []
    slot_of: dict[tuple[str, ...], int] = {}
    position = 0
    for start, end in sorted(spans):
        tokens += query_words[position:start]
        slot_of[query_words[start:end]] = len(slot_of)
        tokens.append(f"{{{slot_of[query_words[start:end]]}}}")
        position = end
    tokens += query_words[position:]
    template = {"slot_words": [len(words) for words in slot_of],
                "program": _with_slots(program_json, literals, slot_of)}
    return " ".join(tokens), len(tokens) - len(slot_of), template


def _slottable_literals(program) -> set[str]:
    """Text arguments that may become slots: not keywords such as TOP, and not used inside an EVAL."""
    expressions = " ".join(str(s.arg("expr", "")) for s in program.steps if s.module == "EVAL").lower()
    found: set[str] = set()

    def visit(value):
        if isinstance(value, tuple):
            for item in value:
                visit(item)
        elif isinstance(value, str) and _slot_shape(value) is not None and not value.isupper() \
                and value.lower() not in expressions:
            found.add(value)

    for step in program.steps:
        if step.module not in _NOT_SLOTTED_MODULES:
            for arg in step.args:
                visit(arg.value)
    return found


def _slot_shape(literal: str) -> tuple[tuple[str, ...], str] | None:
    """(the literal's words, its trailing punctuation) if a query span can stand for it, else None."""
    words = _words(literal)
    if not words or words[0].start() != 0:
        return None
    suffix = literal[words[-1].end():]
    if len(suffix) > MAX_SUFFIX or not re.fullmatch(r"[?.!]*", suffix):
        return None
    return _normal(words), suffix


def _slot_spans(query_words: tuple[str, ...], literals: set[str]) -> list[tuple[int, int]]:
    """Where the literals' words occur in the query, longest first, without overlaps."""
    taken = [False] * len(query_words)
    spans = []
    shapes = sorted({_slot_shape(lit)[0] for lit in literals}, key=lambda w: (-len(w), w))
    for words in shapes:
        for start in range(len(query_words) - len(words) + 1):
            end = start + len(words)
            if query_words[start:end] == words and not any(taken[start:end]):
                spans.append((start, end))
                taken[start:end] = [True] * len(words)
                break
    return spans


def _adjacent(spans: list[tuple[int, int]]) -> bool:
    ordered = sorted(spans)
    return any(a[1] == b[0] for a, b in zip(ordered, ordered[1:]))


def _with_slots(program_json: dict, literals: set[str], slot_of: dict[tuple[str, ...], int]) -> dict:
    """Program JSON with each slotted literal replaced by ``{"slot": n, "suffix": ..., "lower": ...}``."""
    def slotted(value):
        if isinstance(value, list):
            return [slotted(v) for v in value]
        if isinstance(value, str) and value in literals and _slot_shape(value)[0] in slot_of:
            words, suffix = _slot_shape(value)
            return {"slot": slot_of[words], "suffix": suffix, "lower": value == value.lower()}
        return value

    return {"steps": [step if step["module"] in _NOT_SLOTTED_MODULES
                      else {**step, "args": {k: slotted(v) for k, v in step["args"].items()}}
                      for step in program_json["steps"]]}


def _fill(value, slots: tuple[str, ...]):
    """Program JSON with every slot object replaced by its value (plain text: data, never code)."""
    if isinstance(value, dict) and "slot" in value:
        text = slots[value["slot"]]
        return (text.lower() if value.get("lower") else text) + value.get("suffix", "")
    if isinstance(value, dict):
        return {k: _fill(v, slots) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, slots) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _pattern_regex(pattern: str, slot_words: tuple[int, ...]) -> re.Pattern:
    parts = []
    for token in pattern.split(" "):
        slot = _SLOT.fullmatch(token)
        if slot:
            most = slot_words[int(slot.group(1))] + MAX_EXTRA_WORDS
            parts.append(rf"(\S+(?: \S+){{0,{most - 1}}}?)")
        else:
            parts.append(re.escape(token))
    return re.compile(" ".join(parts))


def _match(pattern: str, slot_words: tuple[int, ...], query: str, words) -> tuple[str, ...] | None:
    """The slot values (spans of the original query, whitespace folded) if ``query`` fits ``pattern``."""
    normal = _normal(words)
    joined = " ".join(normal)
    found = _pattern_regex(pattern, slot_words).fullmatch(joined)
    if found is None:
        return None
    starts = {}
    offset = 0
    for index, word in enumerate(normal):
        starts[offset] = index
        offset += len(word) + 1
    order = [int(m.group(1)) for m in _SLOT.finditer(pattern)]
    values: dict[int, str] = {}
    for group, slot in enumerate(order, start=1):
        first = starts[found.start(group)]
        last = first + found.group(group).count(" ")
        span = query[words[first].start():words[last].end()]
        values.setdefault(slot, " ".join(span.split()))
    return tuple(values[i] for i in range(len(values)))
