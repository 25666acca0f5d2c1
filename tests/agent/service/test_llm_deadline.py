"""A planner LLM call made for a request ends within the request's time limit (issue 24): a remote LLM on
127.0.0.1 that hangs, or that keeps asking to retry, holds no worker past the limit, and makes no
further try once the run is cancelled."""

import time

import pytest

pytest.importorskip("openai")

from openai_server import HANG, error_body, no_llm_env, server  # noqa: E402,F401  (fixtures)
from service_support import photo, registry_with_slow_loc, until  # noqa: E402

pytestmark = [pytest.mark.models, pytest.mark.usefixtures("no_llm_env")]

QUESTION = "How many dogs are there?"


def _remote(server, **options):
    """The planner's LLM: the loopback server, with its own time allowances far beyond the request's."""
    from agent.llm.openai_provider import OpenAICompatible

    options = {"timeout": 60.0, "deadline": 180.0, **options}
    return lambda spec: OpenAICompatible("served-model", provider="test", base_url=server.url, **options)


def test_a_hanging_llm_call_ends_at_the_requests_limit(make_client, server):
    server.always("/chat/completions", HANG)  # answers nothing for 60 s (its own limit)
    client = make_client(registry=registry_with_slow_loc(), llm_factory=_remote(server), request_timeout_s=1.0)
    response = client.post("/v1/ask", data={"query": QUESTION}, files={"image": photo("dog.jpg")})
    assert response.status_code == 504, response.text
    run = client.engine.run(response.json()["id"])
    # the call's own timeout is 60 s; it was given only what was left of the request's 1 s
    assert until(lambda: run.finished is not None, 15), "the LLM call outlived the request"
    assert run.status == "timed_out" and run.records == {}
    assert len(server.posted("/chat/completions")) == 1  # no retry after the limit
    assert client.engine.running == 0 and client.engine.admission.admitted == 0


def test_retries_stop_at_the_requests_limit(make_client, server):
    server.always("/chat/completions", error_body("busy"), status=503, headers={"Retry-After": "0.2"})
    client = make_client(registry=registry_with_slow_loc(), request_timeout_s=1.0,
                         llm_factory=_remote(server, max_attempts=1000, backoff=0.2, max_backoff=0.2))
    response = client.post("/v1/ask", data={"query": QUESTION}, files={"image": photo("dog.jpg")})
    run = client.engine.run(response.json()["id"])
    assert until(lambda: run.finished is not None, 15)
    tries = len(server.posted("/chat/completions"))
    time.sleep(0.5)
    assert len(server.posted("/chat/completions")) == tries  # no try after the run ended
    assert 1 <= tries < 20                                   # 0.2 s apart within 1 s, not 1000
    assert response.status_code == 504 and response.json()["limit"] == "request_timeout_s"
    assert run.status == "timed_out" and client.engine.running == 0


def test_a_cancelled_run_makes_no_further_llm_try(make_client, server):
    server.always("/chat/completions", error_body("busy"), status=503, headers={"Retry-After": "0.3"})
    client = make_client(registry=registry_with_slow_loc(), request_timeout_s=60.0,
                         llm_factory=_remote(server, max_attempts=1000, backoff=0.3, max_backoff=0.3))
    from programs.images import decode_image

    run = client.engine.submit_ask(decode_image(photo("dog.jpg")[1], "dog.jpg", 40.0), QUESTION)
    assert until(lambda: len(server.posted("/chat/completions")) >= 2, 15)
    client.engine.cancel(run, "cancelled", "the client disconnected before the answer")
    assert until(lambda: run.finished is not None, 5)
    tries = len(server.posted("/chat/completions"))
    time.sleep(0.8)
    assert len(server.posted("/chat/completions")) == tries and run.status == "cancelled"
