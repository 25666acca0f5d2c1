"""A scripted stand-in for ``loupe.agent.llm`` models: ``enqueue`` replies; ``score`` by a given function."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeUsage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class FakeCompletion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str = "fake"
    provider: str = "fake"


@dataclass
class FakeLLM:
    replies: list[str] = field(default_factory=list)
    scorer: object = None           # (prompt, continuation) -> float
    prompts: list[str] = field(default_factory=list)
    usage: FakeUsage = field(default_factory=FakeUsage)
    supports_constraints: bool = False
    scoring_method: str = "fake"

    def enqueue(self, *texts: str) -> "FakeLLM":
        self.replies.extend(texts)
        return self

    def complete(self, prompt, system=None, max_tokens=256, stop=None, temperature=0.0, prefix_ok=None, raw=False):
        if not self.replies:
            raise AssertionError("FakeLLM: no reply enqueued for this call")
        self.prompts.append(prompt)
        tokens = len(prompt) // 4
        self.usage.calls += 1
        self.usage.prompt_tokens += tokens
        return FakeCompletion(self.replies.pop(0), tokens, 10)

    def score(self, prompt, continuations):
        self.usage.calls += 1
        self.usage.prompt_tokens += len(prompt) // 4
        return [float(self.scorer(prompt, c)) if self.scorer else 0.0 for c in continuations]
