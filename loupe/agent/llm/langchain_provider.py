"""Any langchain-core chat model (``BaseChatModel``) as a Loupe :class:`LLM`.

``max_tokens`` and ``temperature`` belong to the chat model (set them when you build it); ``stop`` is
passed to ``invoke`` and also applied here, since not every model honours it. Token counts come from
the reply's ``usage_metadata`` (0 when the model does not report them). ``prefix_ok`` is ignored.

Scoring takes the ``"multiple-choice"`` path: the candidates as labelled options; the scores come from
the first token's ``top_logprobs`` when the model puts them in ``response_metadata["logprobs"]`` (e.g.
``ChatOpenAI(logprobs=True, top_logprobs=20)``), else the answered label gets 0.0 and the rest the floor.
Exceptions that look transient (timeouts, connection errors, rate limits, 5xx) and empty replies are
retried with backoff; the rest become :class:`LLMError` at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from loupe.agent.llm.base import (
    LLM,
    Completion,
    Deadline,
    LLMError,
    PrefixOk,
    RetryOptions,
    choice_labels,
    choice_prompt,
    choice_scores,
    cut_at_stop,
    retry,
)

_TRANSIENT_NAMES = ("timeout", "ratelimit", "connection", "serviceunavailable", "internalserver", "overloaded")


class LangChainOptions(RetryOptions):
    pass


class LangChainChat(LLM):
    """Wraps ``chat_model`` (a ``langchain_core.language_models.BaseChatModel``)."""

    provider = "langchain"
    supports_constraints = False
    scoring_method = "multiple-choice"

    def __init__(self, chat_model: Any, *, sleep: Callable[[float], None] = time.sleep, **options: Any):
        from langchain_core.language_models import BaseChatModel

        if not isinstance(chat_model, BaseChatModel):
            raise LLMError(f"expected a langchain_core BaseChatModel, got {type(chat_model).__name__}",
                           provider=self.provider)
        name = getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None)
        super().__init__(str(name) if isinstance(name, str) and name else type(chat_model).__name__)
        self.chat_model = chat_model
        self.options = LangChainOptions.parse(self.provider, options)
        self._sleep = sleep

    def _complete(self, prompt: str, system: str | None, max_tokens: int, stop: list[str],
                  temperature: float, prefix_ok: PrefixOk | None, raw: bool = False) -> Completion:
        reply = self._invoke(prompt, system, stop or None)
        text, _ = cut_at_stop(_text_of(reply), stop)
        usage = getattr(reply, "usage_metadata", None) or {}
        return Completion(text, int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)),
                          self.model, self.provider)

    def _score(self, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        labels = choice_labels(len(continuations), self.provider, self.model)
        reply = self._invoke(choice_prompt(prompt, continuations, labels), None, None)
        usage = getattr(reply, "usage_metadata", None) or {}
        return choice_scores(labels, _top_logprobs(reply), _text_of(reply)), int(usage.get("input_tokens", 0))

    def _invoke(self, prompt: str, system: str | None, stop: list[str] | None):
        from langchain_core.messages import HumanMessage, SystemMessage

        messages = ([SystemMessage(system)] if system else []) + [HumanMessage(prompt)]

        def once():
            try:
                reply = self.chat_model.invoke(messages, stop=stop)
            except Exception as error:  # provider packages raise their own types; sort them by name
                raise LLMError(f"{type(error).__name__}: {error}", provider=self.provider, model=self.model,
                               retryable=_looks_transient(error),
                               hint="check the chat model's credentials and endpoint") from error
            if not _text_of(reply).strip():
                raise LLMError("the chat model returned an empty reply", provider=self.provider,
                               model=self.model, retryable=True)
            return reply

        return retry(once, attempts=self.options.max_attempts, backoff=self.options.backoff,
                     max_backoff=self.options.max_backoff, sleep=self._sleep,
                     deadline=Deadline(self.options.deadline))


def _text_of(reply: Any) -> str:
    content = getattr(reply, "content", reply)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content
                       if isinstance(b, (str, dict)))
    return ""


def _top_logprobs(reply: Any) -> dict[str, float] | None:
    """``{token: logprob}`` of the first reply token, from OpenAI-style ``response_metadata``."""
    logprobs = (getattr(reply, "response_metadata", None) or {}).get("logprobs") or {}
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not content:
        return None
    return {t["token"]: t["logprob"] for t in content[0].get("top_logprobs") or []}


def _looks_transient(error: Exception) -> bool:
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    status = getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(status, int) and (status == 429 or status >= 500):
        return True
    names = [cls.__name__.lower() for cls in type(error).__mro__]
    return any(mark in name for name in names for mark in _TRANSIENT_NAMES)
