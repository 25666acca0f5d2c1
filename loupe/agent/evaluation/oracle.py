"""A deterministic stand-in planner for checking the harness itself: it answers each question with a
program written beforehand, so nothing about a language model is measured. Never report its
accuracy as Loupe's.

``programs.jsonl`` holds ``{"query": ..., "program": ...}`` (or ``{"id": ITEM_ID, "program": ...}``, the
item's question read from the benchmark file by ``loupe eval``) per line; ``'{QUESTION}'`` in a program
is the question itself; ``OracleLLM`` finds the question
at the end of the planner's prompt (``Question: ...``) and replies with its program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path


@dataclass(frozen=True)
class OracleCompletion:
    text: str
    prompt_tokens: int
    completion_tokens: int = 0
    model: str = "oracle"
    provider: str = "oracle"


@dataclass
class OracleUsage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class OracleLLM:
    programs: dict[str, str]
    usage: OracleUsage = field(default_factory=OracleUsage)
    supports_constraints = False
    scoring_method = "oracle"

    @classmethod
    def from_file(cls, path: str | Path, queries: dict[str, str] | None = None) -> "OracleLLM":
        """Rows name their question by ``query``, or by a benchmark item's ``id`` looked up in ``queries``
        (id -> question; so a program file for a benchmark need not repeat the benchmark's questions)."""
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        programs = {}
        for row in rows:
            query = row.get("query") or (queries or {}).get(row.get("id", ""))
            if query:
                programs[query.strip()] = row["program"]
        return cls(programs)

    def complete(self, prompt, system=None, max_tokens=256, stop=None, temperature=0.0, prefix_ok=None, **options):
        question = prompt.rsplit("Question:", 1)[-1].strip().splitlines()[0].strip() if "Question:" in prompt else ""
        program = self.programs.get(question, "FINAL_RESULT=RESULT(var='unknown question')")
        # '{QUESTION}' in a program stands for the question itself (a string literal, escaped)
        program = program.replace("{QUESTION}", question.replace("\\", "\\\\").replace("'", "\\'"))
        tokens = len(prompt) // 4
        self.usage.calls += 1
        self.usage.prompt_tokens += tokens
        return OracleCompletion(program, tokens, len(program) // 4)

    def score(self, prompt, continuations):
        self.usage.calls += 1
        return [0.0 for _ in continuations]
