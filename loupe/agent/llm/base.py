"""The one model interface of Loupe's LLM layer: :class:`LLM`, :class:`Completion`, :class:`LLMError`.

A provider subclasses :class:`LLM`, implements the one abstract method ``_complete`` and, when it can,
``_score``; it declares what it can do with class attributes (``supports_constraints``,
``scoring_method``). The public ``complete``/``score`` wrap those with argument checks, usage totals and
(for remote providers) :func:`retry`. Options are pydantic models that forbid unknown keys
(:class:`Options`); a bad key raises :class:`LLMError` listing the valid ones.

A caller that has a time limit of its own (a service request) runs its work inside
``within(budget)``: every LLM call made in that context (in any thread that inherits it) ends within
the budget's time (a remote call's tries and waits; the embedded model's decoding loop) and checks
``budget.check()`` before each try, so that a cancelled request makes no further LLM call.

Also here, shared by the remote providers: the multiple-choice scoring fallback
(:func:`choice_prompt`, :func:`choice_scores`).
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from loupe.programs.errors import LoupeError

PrefixOk = Callable[[str], bool]

#: log-likelihood given to a multiple-choice candidate the model did not list among its top tokens.
FLOOR_LOGPROB = -100.0


class LLMError(LoupeError, RuntimeError):
    """A provider failed, or was set up wrongly; the message (one line) says what happened and what to try.

    ``retryable`` is True for transient failures (timeouts, 429, 5xx, dropped connections, empty output);
    :func:`retry` retries those and gives up on the others at once. ``retry_after``: the seconds the
    server asked to wait (its ``Retry-After``), or None.
    """

    def __init__(self, message: str, *, provider: str = "", model: str = "", retryable: bool = False,
                 hint: str = "", retry_after: float | None = None):
        self.provider, self.model, self.retryable, self.hint = provider, model, retryable, hint
        self.retry_after = retry_after
        where = f"{provider} model {model!r}: " if provider and model else (f"{provider}: " if provider else "")
        super().__init__(_one_line(where + message + (f" ({hint})" if hint else "")))


def _one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line (a server's multi-line error body included), at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True)
class Completion:
    """One reply: its text (stop strings and end-of-turn markers removed) and token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    provider: str
    finish_reason: str = "stop"  # "stop" | "length" | "constraint" (no allowed token, local only)


class Usage:
    """Running totals over a model's life; safe to update from several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls = self.prompt_tokens = self.completion_tokens = 0

    def add(self, prompt_tokens: int, completion_tokens: int = 0) -> None:
        with self._lock:
            self.calls += 1
            self.prompt_tokens += int(prompt_tokens)
            self.completion_tokens += int(completion_tokens)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": self.completion_tokens}

    def __repr__(self) -> str:
        return f"Usage({self.as_dict()})"


class Options(BaseModel):
    """Base of every provider's options: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def parse(cls, provider: str, values: dict[str, Any]) -> Options:
        try:
            return cls(**values)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in error.errors())
            valid = ", ".join(sorted(cls.model_fields))
            raise LLMError(f"bad options: {problems}", provider=provider,
                           hint=f"valid options are: {valid}") from None


class RetryOptions(Options):
    """Retries of transient failures: ``max_attempts`` tries, waiting ``backoff * 2**i`` seconds (capped)
    or what the server's Retry-After asks; ``timeout``: seconds one request may take; ``deadline``: seconds
    one call may take in all, its tries and waits together."""

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 60.0
    deadline: float = 180.0


class Budget(Protocol):
    """What a caller with a time limit of its own gives the LLM calls made on its behalf."""

    def remaining(self) -> float:
        """Seconds left of the caller's time limit (never below 0; ``inf`` when it has none)."""

    def check(self) -> None:
        """Raise (the caller's own exception) once the caller gave up on its work; else return."""


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("loupe_llm_budget", default=None)


@contextmanager
def within(budget: Budget) -> Iterator[Budget]:
    """Every LLM call made in this context (and in threads that copy it) keeps to ``budget``."""
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class Deadline:
    """The end of a call's time: ``remaining()`` seconds left (never below 0) on a monotonic clock: the
    call's own ``seconds`` or, when sooner, what is left of the caller's budget (``within``)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self.seconds, self._clock = seconds, clock
        self._end = None if seconds is None else clock() + seconds
        self.budget = _BUDGET.get()

    def own_remaining(self) -> float:
        return float("inf") if self._end is None else max(0.0, self._end - self._clock())

    def remaining(self) -> float:
        own = self.own_remaining()
        return own if self.budget is None else min(own, max(0.0, self.budget.remaining()))

    def check(self) -> None:
        """The caller's cancellation check (nothing without a budget)."""
        if self.budget is not None:
            self.budget.check()

    def describe(self) -> str:
        """Which limit binds: the call's own deadline or the caller's time limit."""
        if self.budget is not None and self.budget.remaining() < self.own_remaining():
            return "the request's time limit"
        return f"the {self.seconds:g} s deadline"

    def expired(self, provider: str = "", model: str = "", doing: str = "the call") -> LLMError:
        """The error of a call stopped by its deadline (not retryable: no time is left to retry in)."""
        return LLMError(f"{doing} stopped: {self.describe()} passed", provider=provider, model=model)


def retry(call: Callable[[], Any], *, attempts: int, backoff: float, max_backoff: float = 8.0,
          sleep: Callable[[float], None] = time.sleep, jitter: bool = False,
          deadline: Deadline | None = None) -> Any:
    """Run ``call`` until it returns, retrying an :class:`LLMError` with ``retryable=True``.

    Waits ``backoff * 2**i`` seconds (at most ``max_backoff``; with ``jitter`` a random 50-100% of it)
    between tries, or the error's ``retry_after`` when the server asked for longer. After ``attempts``
    tries, or when the next wait would pass ``deadline`` (its own time or the caller's budget), the last
    error is raised saying so (still marked ``retryable``: the failure was transient, the caller may try
    again later). Before each try the caller's budget is checked (``Deadline.check``); when the caller's
    limit is what stops the retries, the rest of it is waited out and checked once more, so that a caller
    whose check raises at its limit (the service ends the run ``timed_out``) sees its own exception.
    """
    deadline = deadline or Deadline(None)
    for attempt in range(attempts):
        deadline.check()  # a cancelled caller makes no further try
        if deadline.remaining() <= 0:
            raise deadline.expired(doing=f"the call (before try {attempt + 1})")
        try:
            return call()
        except LLMError as error:
            if not error.retryable:
                raise
            if attempt == attempts - 1:
                raise _gave_up(error, f"gave up after {attempts} attempts") from error
            delay = min(max_backoff, backoff * 2 ** attempt)
            delay = delay * random.uniform(0.5, 1.0) if jitter else delay
            if error.retry_after is not None and error.retry_after > delay:
                delay = error.retry_after
            if delay >= deadline.remaining():
                if deadline.budget is not None and deadline.remaining() < deadline.own_remaining():
                    sleep(deadline.remaining())  # the caller's limit binds: the caller says what that means
                    deadline.check()
                asked = " (the server asked to wait {:g} s)".format(delay) if delay == error.retry_after else ""
                raise _gave_up(error, f"gave up after {attempt + 1} attempt(s): {deadline.describe()} "
                                      f"would pass before the next try{asked}") from error
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _gave_up(error: LLMError, why: str) -> LLMError:
    final = LLMError(f"{error} - {why}", retryable=True)
    final.provider, final.model, final.hint = error.provider, error.model, error.hint
    return final


class LLM:
    """A language model. Subclasses implement ``_complete`` (and ``_score`` when they can score).

    Capability flags: ``supports_constraints`` (``prefix_ok`` is honoured), ``scoring_method``
    (``"kv-cache"``, ``"echo-logprobs"``, ``"multiple-choice"``, or None when ``score`` is unsupported),
    ``thread_safe`` (calls from several threads may run at once; a caller serves the others one at a time).
    """

    provider: str = "base"
    supports_constraints: bool = False
    scoring_method: str | None = None
    thread_safe: bool = False

    def __init__(self, model: str):
        self._model = model
        self.usage = Usage()

    @property
    def model(self) -> str:
        return self._model

    def complete(self, prompt: str, system: str | None = None, max_tokens: int = 256,
                 stop: Sequence[str] | None = None, temperature: float = 0.0,
                 prefix_ok: PrefixOk | None = None, raw: bool = False) -> Completion:
        """The model's reply to user message ``prompt`` (after ``system``), at most ``max_tokens`` tokens.

        ``stop``: strings that end the reply (not included). ``prefix_ok``: with
        ``supports_constraints``, every reply prefix the model emits satisfies it; other providers
        ignore it. ``raw``: a hint that ``prompt`` is a text to continue (a few-shot pattern ending where
        the answer starts) rather than a chat message: local models then skip the chat template; chat
        providers send it as a message as usual.
        """
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        stop = [stop] if isinstance(stop, str) else list(stop or [])
        completion = self._complete(prompt, system, max_tokens, stop, float(temperature), prefix_ok, raw)
        self.usage.add(completion.prompt_tokens, completion.completion_tokens)
        return completion

    def score(self, prompt: str, continuations: Sequence[str]) -> list[float]:
        """Log-likelihood (natural log) of each continuation right after the raw text ``prompt``.

        With ``scoring_method == "multiple-choice"`` the numbers are the log-probabilities of choosing
        each candidate from a numbered list (comparable with each other, not with other methods).
        """
        continuations = list(continuations)
        if not continuations:
            return []
        if not all(isinstance(c, str) and c for c in continuations):
            raise ValueError("continuations must be non-empty strings")
        scores, prompt_tokens = self._score(prompt, continuations)
        self.usage.add(prompt_tokens)
        return scores

    def score_split(self, prompt: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, float, int]]:
        """For each ``(head, tail)``: log p(head | prompt), log p(tail | prompt + head), and the number of
        tail tokens (about; for length normalisation). See :func:`split_scores`; the local model overrides
        it with one batched pass."""
        return split_scores(self, prompt, pairs)

    def _complete(self, prompt: str, system: str | None, max_tokens: int, stop: list[str],
                  temperature: float, prefix_ok: PrefixOk | None, raw: bool = False) -> Completion:
        raise NotImplementedError

    def _score(self, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        """Return the scores and the number of prompt tokens processed."""
        raise LLMError("this provider cannot score continuations", provider=self.provider, model=self.model,
                       hint="use the local model (make_llm('local')) or an OpenAI-compatible server")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.provider}:{self.model}>"


def split_scores(llm, prompt: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[float, float, int]]:
    """``score_split`` for any object with ``score``: two calls, the whole continuations and the heads."""
    pairs = list(pairs)
    wholes = llm.score(prompt, [head + tail for head, tail in pairs])
    heads = llm.score(prompt, [head for head, _ in pairs])
    return [(h, w - h, max(1, len(tail) // 4)) for (_, tail), w, h in zip(pairs, wholes, heads)]


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first stop string, and whether one was found."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[:min(cuts)], True) if cuts else (text, False)


# --- the multiple-choice scoring fallback (remote models without echo+logprobs) ---

def choice_labels(count: int, provider: str = "", model: str = "") -> list[str]:
    """Single-token labels: "1".."9" for up to 9 candidates, "A".."Z" for up to 26."""
    if count <= 9:
        return [str(i + 1) for i in range(count)]
    if count <= 26:
        return [chr(ord("A") + i) for i in range(count)]
    raise LLMError(f"multiple-choice scoring takes at most 26 candidates, got {count}", provider=provider,
                   model=model, hint="score them in batches, or use a server with echo+logprobs or the local model")


def choice_prompt(prompt: str, continuations: Sequence[str], labels: Sequence[str]) -> str:
    """The user message: the text, the candidates as labelled options, and the request for one label."""
    options = "\n".join(f"{label}. {text!r}" for label, text in zip(labels, continuations))
    return (f"Text:\n{prompt}\n\nWhich option is the most likely continuation of the text?\n{options}\n\n"
            f"Answer with the option's label ({labels[0]}-{labels[-1]}) only.")


def choice_scores(labels: Sequence[str], top_logprobs: dict[str, float] | None, answer: str) -> list[float]:
    """Per-candidate log-probabilities read from the first reply token's ``top_logprobs``
    (``{token: logprob}``); candidates missing there get :data:`FLOOR_LOGPROB`. Without top_logprobs,
    the answered label gets 0.0 and the others the floor.
    """
    best: dict[str, float] = {}
    for token, logprob in (top_logprobs or {}).items():
        key = token.strip().rstrip(".):").upper()
        if key in labels and logprob is not None and math.isfinite(logprob):
            best[key] = max(best.get(key, -math.inf), float(logprob))
    if not best:
        first = answer.strip()[:1].upper()
        best = {first: 0.0} if first in labels else {}
    return [best.get(label, FLOOR_LOGPROB) for label in labels]
