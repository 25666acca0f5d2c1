"""A deterministic stand-in planner for checking the harness itself: it answers each question with a
program written beforehand, so nothing about a language model is measured. Never report its
accuracy as Loupe's.

``programs.jsonl`` holds ``{"query": ..., "program": ...}`` per line; ``OracleLLM`` finds the question
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
    def from_file(cls, path: str | Path) -> "OracleLLM":
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        return cls({row["query"].strip(): row["program"] for row in rows})

    def complete(self, prompt, system=None, max_tokens=256, stop=None, temperature=0.0, prefix_ok=None, **options):
        question = prompt.rsplit("Question:", 1)[-1].strip().splitlines()[0].strip() if "Question:" in prompt else ""
        program = self.programs.get(question, "FINAL_RESULT=RESULT(var='unknown question')")
        tokens = len(prompt) // 4
        self.usage.calls += 1
        self.usage.prompt_tokens += tokens
        return OracleCompletion(program, tokens, len(program) // 4)

    def score(self, prompt, continuations):
        self.usage.calls += 1
        return [0.0 for _ in continuations]
