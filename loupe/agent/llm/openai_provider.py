"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, llama.cpp server, LM Studio...) through the ``openai`` SDK.

Where settings come from, first found wins: the arguments, then the given ``Settings`` (``OPENAI_API_KEY`` /
``OPENAI_BASE_URL`` when the entry point built them with ``Settings.from_env()``); nothing here reads the
environment.
The official endpoint (no base URL, or api.openai.com) needs a key and says so before any call; other
servers get a placeholder key. With ``model=None`` the model is the server's first in ``/v1/models``.

Scoring (``scoring_method``):

* ``"echo-logprobs"`` (default for servers other than api.openai.com and Ollama): one legacy
  ``/v1/completions`` request with every ``prompt + continuation`` as a batch, ``echo=True, logprobs=1,
  max_tokens=0``; a continuation's score is the sum of the logprobs of the tokens that end after the
  prompt's last character. If the server refuses (4xx) or returns no logprobs, the model switches to:
* ``"multiple-choice"`` (api.openai.com, Ollama, or after a refusal): the candidates become labelled
  options in one chat request, ``max_tokens=1, logprobs=True, top_logprobs=20``; each candidate's score is
  its label's logprob in the first token's ``top_logprobs`` (``FLOOR_LOGPROB`` when absent).

``prefix_ok`` is ignored (``supports_constraints = False``). The SDK's own retries are off; transient
failures (timeout, connection, 429, 5xx, empty or malformed replies) go through :func:`base.retry`,
which honours the server's ``Retry-After``. One call (its tries and waits together) ends within the
``deadline`` option (seconds); each request within ``timeout`` and what is left of the deadline.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any, Literal

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
from loupe.tools.settings import Settings

OPENAI_URL_MARK = "api.openai.com"
MAX_SERVER_STOPS = 4  # OpenAI accepts at most 4 stop strings; the rest are applied here


class OpenAIOptions(RetryOptions):
    base_url: str | None = None
    api_key: str | None = None
    scoring: Literal["auto", "echo-logprobs", "multiple-choice"] = "auto"
    top_logprobs: int = 20


class OpenAICompatible(LLM):
    """A chat model behind an OpenAI-style HTTP API. ``provider`` only labels errors and completions."""

    supports_constraints = False
    thread_safe = True  # each call is its own HTTP request on the SDK's (thread-safe) client

    def __init__(self, model: str | None = None, *, provider: str = "openai",
                 sleep: Callable[[float], None] = time.sleep, settings: Settings | None = None, **options: Any):
        """``settings`` give the defaults of ``base_url`` and ``api_key`` (``OPENAI_BASE_URL``,
        ``OPENAI_API_KEY``, read by the entry point); without them only the arguments count."""
        super().__init__(model or "")
        self.provider = provider
        self.options = OpenAIOptions.parse(provider, options)
        self._sleep = sleep
        settings = settings if settings is not None else Settings()  # the defaults: no key, no base URL
        self.base_url = self.options.base_url or settings.openai_base_url or None
        official = self.base_url is None or OPENAI_URL_MARK in self.base_url
        api_key = self.options.api_key or settings.openai_api_key
        if not api_key:
            if official:
                raise LLMError("no API key found", provider=provider, model=self._model or "?",
                               hint="set OPENAI_API_KEY, pass api_key=..., or point OPENAI_BASE_URL at a "
                                    "local server such as http://localhost:11434/v1")
            api_key = "not-needed"
        scoring = self.options.scoring
        if scoring == "auto":
            scoring = "multiple-choice" if official or provider == "ollama" else "echo-logprobs"
        self.scoring_method = scoring
        import openai  # heavy; imported when a model is made, not when agent.llm is

        self._openai = openai
        self._client = openai.OpenAI(api_key=api_key, base_url=self.base_url, timeout=self.options.timeout,
                                     max_retries=0)

    @property
    def model(self) -> str:
        if not self._model:
            self._model = self._call("list models", self._first_model)
        return self._model

    def _first_model(self, client) -> str:
        models = [m.id for m in client.models.list().data]
        if not models:
            raise LLMError(f"the server at {self.base_url} lists no models", provider=self.provider,
                           hint="set LOUPE_LLM_MODEL or pass the model name")
        return models[0]

    # --- completion ---

    def _complete(self, prompt: str, system: str | None, max_tokens: int, stop: list[str],
                  temperature: float, prefix_ok: PrefixOk | None, raw: bool = False) -> Completion:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                  "temperature": temperature}
        if stop:
            kwargs["stop"] = stop[:MAX_SERVER_STOPS]

        def ask(client) -> Completion:
            response = client.chat.completions.create(**kwargs)
            choice = response.choices[0]
            text = choice.message.content
            if not isinstance(text, str) or not text:
                raise LLMError("the server returned an empty reply", provider=self.provider, model=self.model,
                               retryable=True)
            text, _ = cut_at_stop(text, stop)
            usage = response.usage
            return Completion(text, getattr(usage, "prompt_tokens", 0) or 0,
                              getattr(usage, "completion_tokens", 0) or 0, self.model, self.provider,
                              choice.finish_reason or "stop")

        return self._call("chat completion", ask)

    # --- scoring ---

    def _score(self, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        if self.scoring_method == "echo-logprobs":
            try:
                return self._call("echo+logprobs scoring", lambda c: self._score_echo(c, prompt, continuations))
            except LLMError as error:
                if error.retryable or self.options.scoring != "auto":
                    raise
                self.scoring_method = "multiple-choice"  # the server does not do echo+logprobs
        return self._call("multiple-choice scoring", lambda c: self._score_choice(c, prompt, continuations))

    def _score_echo(self, client, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        response = client.completions.create(
            model=self.model, prompt=[prompt + c for c in continuations], echo=True, logprobs=1, max_tokens=0,
            temperature=0.0)
        choices = sorted(response.choices, key=lambda c: c.index)
        if len(choices) != len(continuations):
            raise self._malformed(f"{len(choices)} choices for {len(continuations)} prompts")
        scores = [self._continuation_logprob(c.logprobs, len(prompt), len(prompt) + len(text))
                  for c, text in zip(choices, continuations)]
        return scores, getattr(response.usage, "prompt_tokens", 0) or 0

    def _continuation_logprob(self, logprobs, start: int, end: int) -> float:
        if logprobs is None or not logprobs.tokens or logprobs.token_logprobs is None:
            raise LLMError("the server returned no echoed logprobs", provider=self.provider, model=self.model,
                           hint="use a server with echo+logprobs (vLLM, llama.cpp) or scoring='multiple-choice'")
        offsets = logprobs.text_offset
        if not offsets:  # rebuild the offsets from the token texts
            offsets, at = [], 0
            for token in logprobs.tokens:
                offsets.append(at)
                at += len(token)
        total, counted = 0.0, 0
        for token, offset, logprob in zip(logprobs.tokens, offsets, logprobs.token_logprobs):
            if offset < end and offset + len(token) > start and logprob is not None:
                total, counted = total + float(logprob), counted + 1
        if not counted:
            raise self._malformed("no echoed token covers the continuation")
        return total

    def _score_choice(self, client, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        labels = choice_labels(len(continuations), self.provider, self.model)
        response = client.chat.completions.create(
            model=self.model, messages=[{"role": "user", "content": choice_prompt(prompt, continuations, labels)}],
            max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=self.options.top_logprobs)
        choice = response.choices[0]
        content = getattr(choice.logprobs, "content", None) or []
        top = {t.token: t.logprob for t in (content[0].top_logprobs or [])} if content else None
        return choice_scores(labels, top, choice.message.content or ""), getattr(response.usage, "prompt_tokens", 0) or 0

    # --- errors ---

    def _malformed(self, what: str) -> LLMError:
        return LLMError(f"malformed reply from the server: {what}", provider=self.provider, model=self._model,
                        retryable=True, hint="check that the URL points at an OpenAI-compatible API")

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """``fn(client)`` with SDK errors turned into LLMError and transient ones retried, all within the
        deadline; each try gets a client whose timeout is what is left of it (at most ``timeout``)."""
        deadline = Deadline(self.options.deadline)

        def once():
            left = max(0.001, min(self.options.timeout, deadline.remaining()))  # retry() stops at the deadline
            try:
                return fn(self._client.with_options(timeout=left))
            except LLMError:
                raise
            except self._openai.OpenAIError as error:
                raise self._translate(what, error, left) from error
            except (AttributeError, IndexError, KeyError, TypeError, ValueError) as error:
                raise self._malformed(f"{what}: {type(error).__name__}: {error}") from error

        return retry(once, attempts=self.options.max_attempts, backoff=self.options.backoff,
                     max_backoff=self.options.max_backoff, sleep=self._sleep, deadline=deadline)

    def _translate(self, what: str, error: Exception, timeout: float) -> LLMError:
        openai, where = self._openai, self.base_url or "https://api.openai.com/v1"
        name = {"provider": self.provider, "model": self._model or "?"}
        if isinstance(error, openai.APITimeoutError):
            return LLMError(f"{what} timed out after {timeout:.3g}s", retryable=True, **name,
                            hint=f"check the server at {where}, or allow more time (--llm-timeout)")
        if isinstance(error, openai.APIConnectionError):
            return LLMError(f"{what}: could not connect to {where}", retryable=True, **name,
                            hint="check the server URL (OPENAI_BASE_URL) and that the server is running")
        if isinstance(error, openai.APIResponseValidationError):
            return self._malformed(f"{what}: {error}")
        status = getattr(error, "status_code", None)
        message = f"{what} failed with HTTP {status}: {getattr(error, 'message', error)}"
        if status == 401:
            return LLMError(message, **name, hint="check OPENAI_API_KEY (or the api_key option)")
        if status == 404:
            return LLMError(message, **name, hint=f"check the model name; the server lists its models at {where}/models")
        if status == 429 or (status is not None and status >= 500):
            return LLMError(message, retryable=True, **name, hint="the server is busy or failing; try again later",
                            retry_after=retry_after_seconds(getattr(error, "response", None)))
        return LLMError(message, **name)


def retry_after_seconds(response) -> float | None:
    """The wait a reply's ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` header asks for."""
    headers = getattr(response, "headers", None) or {}
    try:
        if headers.get("retry-after-ms"):
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None
