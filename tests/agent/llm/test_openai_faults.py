"""Remote LLM faults through the real openai client against a loopback server: Retry-After is honoured
within the call's deadline, a server that never answers or drops the connection ends in an LLMError
(a LoupeError: the CLI's exit 2), and every message is one line."""

from __future__ import annotations

import email.utils
import time

import pytest

pytest.importorskip("openai")

from loupe.agent.llm import LLMError
from loupe.agent.llm.openai_provider import OpenAICompatible, retry_after_seconds
from loupe.programs.errors import LoupeError

from openai_server import HANG, RESET, chat, error_body, no_llm_env, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("no_llm_env")


def make(server, sleeps=None, **options):
    sleep = (lambda s: None) if sleeps is None else sleeps.append
    return OpenAICompatible("m", provider="test", base_url=server.url, sleep=sleep, **options)


def test_429_waits_what_retry_after_asks_then_succeeds(server):
    server.enqueue("/chat/completions", error_body("slow down"), status=429, headers={"Retry-After": "3"})
    server.enqueue("/chat/completions", chat("ok"))
    sleeps = []
    assert make(server, sleeps).complete("hi").text == "ok"
    assert sleeps == [3.0]  # not the 0.5 s backoff


def test_retry_after_in_milliseconds_and_shorter_than_the_backoff(server):
    server.enqueue("/chat/completions", error_body("busy"), status=503, headers={"retry-after-ms": "100"})
    server.enqueue("/chat/completions", chat("ok"))
    sleeps = []
    assert make(server, sleeps, backoff=0.5).complete("hi").text == "ok"
    assert sleeps == [0.5]  # the longer of the two


def test_a_retry_after_past_the_deadline_gives_up_at_once(server):
    server.always("/chat/completions", error_body("come back tomorrow"), status=429, headers={"Retry-After": "600"})
    sleeps = []
    with pytest.raises(LLMError, match=r"HTTP 429.*gave up after 1 attempt\(s\): the 30 s deadline would pass "
                                       r"before the next try \(the server asked to wait 600 s\)") as info:
        make(server, sleeps, deadline=30).complete("hi")
    assert sleeps == [] and len(server.posted("/chat/completions")) == 1
    assert isinstance(info.value, LoupeError) and "\n" not in str(info.value)


def test_a_server_that_never_answers_ends_at_the_deadline(server):
    server.always("/chat/completions", HANG)
    with pytest.raises(LLMError, match=r"timed out after 1s.*the 1.2 s deadline would pass") as info:
        make(server, timeout=1.0, deadline=1.2).complete("hi")  # 1 s try, then no time for a second
    assert info.value.retryable and len(server.posted("/chat/completions")) == 1


def test_each_try_gets_only_what_is_left_of_the_deadline(server):
    server.enqueue("/chat/completions", RESET)
    server.always("/chat/completions", HANG)
    with pytest.raises(LLMError, match=r"timed out after [01]\.[0-9]+s .*gave up after") as info:
        # tries of up to 60 s each, but the whole call has 1.5 s: the second try gets what is left of it
        make(server, timeout=60, deadline=1.5, backoff=0.0).complete("hi")
    assert "60s" not in str(info.value) and len(server.posted("/chat/completions")) >= 2


def test_a_dropped_connection_is_retried(server):
    server.enqueue("/chat/completions", RESET)
    server.enqueue("/chat/completions", chat("ok"))
    assert make(server).complete("hi").text == "ok"
    assert len(server.posted("/chat/completions")) == 2


@pytest.mark.parametrize("reply, message", [
    ("<html>502 Bad Gateway</html>", "malformed reply from the server"),
    (chat(""), "the server returned an empty reply"),
    ({"unexpected": "shape"}, "malformed reply from the server"),
])
def test_garbage_and_empty_replies_are_one_line_llm_errors(server, reply, message):
    server.always("/chat/completions", reply)
    with pytest.raises(LLMError, match=message + r".*gave up after 2 attempts") as info:
        make(server, max_attempts=2).complete("hi")
    assert "\n" not in str(info.value) and len(server.posted("/chat/completions")) == 2


def test_a_multi_line_server_message_becomes_one_line(server):
    server.always("/chat/completions", error_body("bad request\n  at line 3\n\n  see the docs"), status=400)
    with pytest.raises(LLMError, match="HTTP 400: .*bad request at line 3 see the docs$"):
        make(server).complete("hi")


def test_retry_after_reads_seconds_and_http_dates():
    class Reply:
        def __init__(self, headers):
            self.headers = headers

    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert retry_after_seconds(Reply({"retry-after": "7"})) == 7.0
    assert 8.0 <= retry_after_seconds(Reply({"retry-after": in_ten})) <= 10.0
    assert retry_after_seconds(Reply({"retry-after": "-3"})) == 0.0
    assert retry_after_seconds(Reply({"retry-after": "soon"})) is None
    assert retry_after_seconds(Reply({})) is None and retry_after_seconds(None) is None
