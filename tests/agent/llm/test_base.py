"""The base class, the retry helper, options, multiple-choice helpers and the factory's spec parsing."""

from __future__ import annotations

import threading

import pytest

from loupe.agent.llm import LLM, Completion, LLMError, make_llm, register_provider
from loupe.agent.llm.base import FLOOR_LOGPROB, Deadline, choice_labels, choice_scores, cut_at_stop, retry, within
from loupe.agent.llm.factory import PROVIDERS
from loupe.tools.settings import Settings


class Echo(LLM):
    provider = "echo"

    def _complete(self, prompt, system, max_tokens, stop, temperature, prefix_ok, raw=False):
        text, _ = cut_at_stop(prompt, stop)
        return Completion(text, len(prompt.split()), len(text.split()), self.model, self.provider)


def test_complete_checks_arguments_and_counts_usage_across_threads():
    llm = Echo("e")
    with pytest.raises(ValueError, match="max_tokens must be >= 1"):
        llm.complete("x", max_tokens=0)
    with pytest.raises(TypeError, match="prompt must be a str"):
        llm.complete(["x"])
    threads = [threading.Thread(target=lambda: [llm.complete("a b c|d", stop="|") for _ in range(50)])
               for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert llm.usage.as_dict() == {"calls": 200, "prompt_tokens": 600, "completion_tokens": 600}


def test_score_unsupported_says_what_to_use():
    with pytest.raises(LLMError, match="cannot score.*make_llm\\('local'\\)"):
        Echo("e").score("x", [" y"])
    assert Echo("e").score("x", []) == []


def test_retry_gives_up_on_permanent_errors_at_once():
    calls, sleeps = [], []

    def fail():
        calls.append(1)
        raise LLMError("bad request", provider="p", model="m")

    with pytest.raises(LLMError, match="^p model 'm': bad request$"):
        retry(fail, attempts=5, backoff=1, sleep=sleeps.append)
    assert (len(calls), sleeps) == (1, [])


def test_retry_jitter_stays_within_half_to_full_delay():
    sleeps = []
    with pytest.raises(LLMError, match="gave up after 4"):
        retry(lambda: (_ for _ in ()).throw(LLMError("x", retryable=True)), attempts=4, backoff=1.0,
              sleep=sleeps.append, jitter=True)
    assert len(sleeps) == 3  # one wait between each of the 4 attempts
    assert all(d / 2 <= s <= d for s, d in zip(sleeps, [1.0, 2.0, 4.0]))
    assert sleeps != [1.0, 2.0, 4.0]  # jittered, not the plain doubling


class Budget:
    """A caller's budget on a fake clock: ``left`` seconds; ``cancel()`` makes ``check`` raise."""

    class Gone(BaseException):
        pass

    def __init__(self, left: float):
        self.left, self.cancelled, self.checks = left, False, 0

    def remaining(self) -> float:
        return max(0.0, self.left)

    def check(self) -> None:
        self.checks += 1
        if self.cancelled:
            raise Budget.Gone()


def transient(calls):
    def fail():
        calls.append(1)
        raise LLMError("busy", retryable=True)
    return fail


def test_retries_stop_when_the_callers_time_limit_would_pass():
    budget, calls, sleeps = Budget(3.5), [], []

    def sleep(seconds):
        sleeps.append(seconds)
        budget.left -= seconds

    with within(budget), pytest.raises(LLMError, match="gave up after 3 attempt.*the request's time limit would "
                                                       "pass before the next try"):
        retry(transient(calls), attempts=10, backoff=1.0, sleep=sleep, deadline=Deadline(180))
    assert sleeps == [1.0, 2.0, 0.5] and len(calls) == 3  # the next wait (4 s) is past what is left: the rest
    assert budget.checks == 4                                # of it waited out, and the caller asked again
    assert Deadline(180).budget is None               # outside ``within`` no budget applies


def test_a_cancelled_caller_makes_no_further_try():
    budget, calls = Budget(60.0), []
    with within(budget), pytest.raises(Budget.Gone):
        retry(transient(calls), attempts=10, backoff=1.0, sleep=lambda s: setattr(budget, "cancelled", True),
              deadline=Deadline(180))
    assert len(calls) == 1 and budget.checks == 2


def test_no_try_starts_after_the_callers_time_is_up():
    calls = []
    with within(Budget(0.0)), pytest.raises(LLMError, match="stopped: the request's time limit passed") as info:
        retry(transient(calls), attempts=3, backoff=0.0, deadline=Deadline(180))
    assert calls == [] and not info.value.retryable


def test_within_reaches_threads_that_copy_the_context():
    import contextvars

    budget, seen = Budget(5.0), []
    with within(budget):
        thread = threading.Thread(target=contextvars.copy_context().run, args=(lambda: seen.append(Deadline(9).budget),))
        thread.start()
        thread.join()
    assert seen == [budget] and Deadline(9).remaining() == pytest.approx(9, abs=0.5)


@pytest.mark.parametrize("count, labels", [(3, ["1", "2", "3"]), (10, list("ABCDEFGHIJ"))])
def test_choice_labels(count, labels):
    assert choice_labels(count) == labels


def test_choice_labels_refuses_too_many():
    with pytest.raises(LLMError, match="at most 26.*in batches"):
        choice_labels(27)


def test_choice_scores_keeps_the_best_spelling_of_each_label():
    assert choice_scores(["1", "2"], {" 1": -0.5, "1": -0.1, "2.": -2.0, "3": -0.01}, "") == [-0.1, -2.0]
    assert choice_scores(["A", "B"], None, "b) because") == [FLOOR_LOGPROB, 0.0]
    assert choice_scores(["A", "B"], None, "no idea") == [FLOOR_LOGPROB, FLOOR_LOGPROB]


def test_unknown_spec_lists_the_valid_ones():
    with pytest.raises(LLMError, match="unknown LLM spec 'gpt5'.*'openai:MODEL'.*local, ollama, openai"):
        make_llm("gpt5", settings=Settings.from_env())


def test_registered_provider_is_used_and_models_pass_through(monkeypatch):
    monkeypatch.setitem(PROVIDERS, "echo", lambda rest, options, settings: Echo(rest or "default", **options))
    register_provider("echo", PROVIDERS["echo"])
    llm = make_llm("echo:tiny", settings=Settings.from_env())
    assert llm.model == "tiny" and make_llm(llm) is llm
    monkeypatch.setenv("LOUPE_LLM", "echo:from-env")
    assert make_llm(settings=Settings.from_env()).model == "from-env"


def test_ollama_spec_uses_the_default_url_and_no_key(monkeypatch):
    pytest.importorskip("openai")
    for key in ("OPENAI_API_KEY", "OLLAMA_HOST", "LOUPE_LLM_MODEL"):
        monkeypatch.delenv(key, raising=False)
    llm = make_llm("ollama:llama3.2", settings=Settings.from_env())
    assert (llm.base_url, llm.model, llm.provider) == ("http://localhost:11434/v1", "llama3.2", "ollama")
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11434")
    assert make_llm("ollama:llama3.2", settings=Settings.from_env()).base_url == "http://gpu-box:11434/v1"


def test_local_spec_with_a_path(tmp_path):
    llm = make_llm(f"local:{tmp_path / 'my.gguf'}", settings=Settings.from_env())
    assert llm.options.gguf.endswith("my.gguf") and llm.supports_constraints
    with pytest.raises(LLMError, match="not found"):
        llm.load()
