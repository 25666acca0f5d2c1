"""The OpenAI-compatible provider against a real HTTP server on 127.0.0.1 with scripted replies."""

from __future__ import annotations

import socket

import pytest
from loupe.tools.settings import Settings

pytest.importorskip("openai")

from loupe.agent.llm import FLOOR_LOGPROB, LLMError, make_llm
from loupe.agent.llm.openai_provider import OpenAICompatible

from openai_server import MODELS, ScriptedServer, chat, echo, error_body, server  # noqa: F401  (server is a fixture)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LOUPE_LLM", "LOUPE_LLM_MODEL", "OLLAMA_HOST"):
        monkeypatch.delenv(key, raising=False)


def make(server, sleeps=None, **options):
    sleeps = [] if sleeps is None else sleeps
    return OpenAICompatible("m", provider="test", base_url=server.url, sleep=sleeps.append, **options)


def test_complete_sends_messages_and_reads_usage(server):
    server.enqueue("/chat/completions", chat("BOX0=LOC(image=IMAGE,object='tie')\nEND"))
    llm = make(server)
    c = llm.complete("find the tie", system="You write programs.", max_tokens=20, stop=["END"])
    assert c.text == "BOX0=LOC(image=IMAGE,object='tie')\n"
    assert (c.prompt_tokens, c.completion_tokens, c.model, c.provider) == (11, 3, "m", "test")
    sent = server.posted("/chat/completions")[0]
    assert sent["messages"] == [{"role": "system", "content": "You write programs."},
                                {"role": "user", "content": "find the tie"}]
    assert (sent["max_tokens"], sent["temperature"], sent["stop"]) == (20, 0.0, ["END"])
    assert llm.usage.as_dict() == {"calls": 1, "prompt_tokens": 11, "completion_tokens": 3}


def test_prefix_ok_is_ignored_and_flagged(server):
    llm = make(server)
    assert llm.supports_constraints is False
    assert llm.complete("hi", prefix_ok=lambda t: False).text == "hello"


def test_url_spec_takes_the_servers_first_model(server):
    llm = make_llm(server.url, settings=Settings.from_env())
    assert llm.complete("hi").text == "hello"
    assert llm.model == "served-model"
    assert server.posted("/chat/completions")[0]["model"] == "served-model"


def test_retries_429_then_500_then_succeeds(server):
    server.enqueue("/chat/completions", error_body("slow down"), status=429)
    server.enqueue("/chat/completions", error_body("boom"), status=500)
    server.enqueue("/chat/completions", chat("ok"))
    sleeps = []
    assert make(server, sleeps).complete("hi").text == "ok"
    assert sleeps == [0.5, 1.0]
    assert len(server.posted("/chat/completions")) == 3


def test_always_503_gives_up_after_max_attempts(server):
    server.always("/chat/completions", error_body("overloaded"), status=503)
    sleeps = []
    with pytest.raises(LLMError, match="HTTP 503.*gave up after 3 attempts") as info:
        make(server, sleeps, max_attempts=3, backoff=0.25).complete("hi")
    assert sleeps == [0.25, 0.5]
    assert len(server.posted("/chat/completions")) == 3
    assert info.value.provider == "test" and info.value.retryable


def test_backoff_is_capped(server):
    server.always("/chat/completions", error_body("overloaded"), status=502)
    sleeps = []
    with pytest.raises(LLMError):
        make(server, sleeps, max_attempts=5, backoff=1.0, max_backoff=3.0).complete("hi")
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_auth_error_is_not_retried_and_says_what_to_set(server):
    server.enqueue("/chat/completions", error_body("bad key"), status=401)
    sleeps = []
    with pytest.raises(LLMError, match="OPENAI_API_KEY"):
        make(server, sleeps).complete("hi")
    assert sleeps == []


@pytest.mark.parametrize("bad", ["<html>not json</html>", chat(""), chat(None), {"choices": []}])
def test_malformed_or_empty_output_is_retried(server, bad):
    server.enqueue("/chat/completions", bad)
    sleeps = []
    assert make(server, sleeps).complete("hi").text == "hello"
    assert sleeps == [0.5]


def test_always_empty_output_is_an_error(server):
    server.always("/chat/completions", chat(""))
    with pytest.raises(LLMError, match="empty reply.*gave up after 2"):
        make(server, max_attempts=2).complete("hi")


def test_timeout_is_retried_then_reported(server):
    server.always("/chat/completions", chat("late"), delay=1.0)
    sleeps = []  # how long it takes: bench/bench_latency.py
    with pytest.raises(LLMError, match=r"timed out after 0.2s.*gave up after 2 attempts"):
        make(server, sleeps, timeout=0.2, max_attempts=2).complete("hi")
    assert sleeps == [0.5]


def test_connection_refused_names_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    sleeps = []
    llm = OpenAICompatible("m", base_url=f"http://127.0.0.1:{port}/v1", sleep=sleeps.append, max_attempts=2)
    with pytest.raises(LLMError, match=f"could not connect to http://127.0.0.1:{port}/v1.*server URL"):
        llm.complete("hi")
    assert sleeps == [0.5]


def test_missing_api_key_fails_before_any_call():
    with pytest.raises(LLMError, match="no API key.*OPENAI_API_KEY"):
        make_llm("openai:gpt-4o-mini", settings=Settings.from_env())


def test_local_servers_need_no_key(server):
    assert make_llm("ollama:llama3.2", base_url=server.url, settings=Settings.from_env()).complete("hi").text == "hello"


def test_unknown_option_lists_the_valid_ones(server):
    with pytest.raises(LLMError, match="temperatur.*valid options are: api_key, backoff"):
        make(server, temperatur=0.5)


def test_echo_logprobs_scoring_sums_the_continuation_tokens(server):
    prompt = [("The", None), (" cat", -4.0), (" sat", -2.0), (" on", -1.0), (" the", -0.5)]
    server.enqueue("/completions", echo(prompt + [(" mat", -0.7)], prompt + [(" moon", -3.0), (" rock", -2.0)]))
    llm = make(server)
    assert llm.scoring_method == "echo-logprobs"
    assert llm.score("The cat sat on the", [" mat", " moon rock"]) == pytest.approx([-0.7, -5.0])
    sent = server.posted("/completions")[0]
    assert sent["prompt"] == ["The cat sat on the mat", "The cat sat on the moon rock"]
    assert (sent["echo"], sent["logprobs"], sent["max_tokens"]) == (True, 1, 0)
    assert llm.usage.prompt_tokens == 12


def test_echo_refused_falls_back_to_multiple_choice(server):
    server.enqueue("/completions", error_body("echo is not supported"), status=400)
    server.enqueue("/chat/completions", chat("2", top=[("2", -0.1), ("1", -2.5), (" 2", -3.0), ("x", -4.0)]))
    llm = make(server)
    assert llm.score("The cat sat on the", [" mat", " moon", " rock"]) == [-2.5, -0.1, FLOOR_LOGPROB]
    assert llm.scoring_method == "multiple-choice"
    sent = server.posted("/chat/completions")[0]
    assert (sent["max_tokens"], sent["logprobs"], sent["top_logprobs"]) == (1, True, 20)
    assert "1. ' mat'" in sent["messages"][0]["content"] and "3. ' rock'" in sent["messages"][0]["content"]


def test_multiple_choice_without_logprobs_uses_the_answer(server):
    server.enqueue("/chat/completions", chat("B"))
    llm = make(server, scoring="multiple-choice")
    scores = llm.score("x", [f" c{i}" for i in range(12)])  # > 9 candidates: letter labels
    assert scores[1] == 0.0 and all(s == FLOOR_LOGPROB for i, s in enumerate(scores) if i != 1)
    assert server.posted("/completions") == []


def test_official_endpoint_scores_by_multiple_choice(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert make_llm("openai:gpt-4o-mini", settings=Settings.from_env()).scoring_method == "multiple-choice"
