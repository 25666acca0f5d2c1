"""A planner LLM call made for a request ends within the request's time limit (issue 24): a remote LLM on
127.0.0.1 that hangs, or that keeps asking to retry, holds no worker past the limit, and makes no
further try once the run is cancelled."""

import json
import time

import pytest

pytest.importorskip("openai")

from openai_server import HANG, error_body, no_llm_env, server  # noqa: E402,F401  (fixtures)
from service_support import photo, registry_with_slow_loc, until  # noqa: E402

pytestmark = [pytest.mark.models, pytest.mark.usefixtures("no_llm_env")]

QUESTION = "How many dogs are there?"


def _remote(server, **options):
    """The planner's LLM: the loopback server, with its own time allowances far beyond the request's."""
    from loupe.agent.llm.openai_provider import OpenAICompatible

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
    from loupe.programs.images import decode_image

    run = client.engine.submit_ask(decode_image(photo("dog.jpg")[1], "dog.jpg", 40.0), QUESTION)
    assert until(lambda: len(server.posted("/chat/completions")) >= 2, 15)
    client.engine.cancel(run, "cancelled", "the client disconnected before the answer")
    assert until(lambda: run.finished is not None, 5)
    tries = len(server.posted("/chat/completions"))
    time.sleep(0.8)
    assert len(server.posted("/chat/completions")) == tries and run.status == "cancelled"


def _image():
    from loupe.programs.images import decode_image

    return decode_image(photo("dog.jpg")[1], "dog.jpg", 40.0)


SLOW = "Describe this photo at great length."
PROGRAM = "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"


def test_a_slow_remote_call_holds_up_no_other_requests_planning(make_client, server):
    from openai_server import chat

    server.route("/chat/completions", lambda body: HANG if SLOW in json.dumps(body) else chat(PROGRAM))
    client = make_client(registry=registry_with_slow_loc(), llm_factory=_remote(server), request_timeout_s=20.0)
    slow = client.engine.submit_ask(_image(), SLOW)
    assert until(lambda: len(server.posted("/chat/completions")) == 1, 10)
    quick = client.post("/v1/ask", data={"query": QUESTION}, files={"image": photo("dog.jpg")})
    assert quick.status_code == 200 and quick.json()["program"].strip() == PROGRAM, quick.text
    assert slow.finished is None  # still waiting for its LLM, which held up nobody else
    client.engine.cancel(slow, "cancelled", "the test is over")


def test_a_run_waiting_for_a_serial_llm_gives_up_when_cancelled(make_client, server):
    server.always("/chat/completions", HANG)

    def serial(spec):
        llm = _remote(server)(spec)
        llm.thread_safe = False  # as the embedded model: one call at a time
        return llm

    client = make_client(registry=registry_with_slow_loc(), llm_factory=serial, request_timeout_s=20.0)
    first = client.engine.submit_ask(_image(), SLOW)
    assert until(lambda: len(server.posted("/chat/completions")) == 1, 10)
    second = client.engine.submit_ask(_image(), QUESTION)  # waits for the first's call to end
    time.sleep(0.5)
    client.engine.cancel(second, "cancelled", "the client disconnected before the answer")
    assert until(lambda: second.finished is not None, 5) and second.status == "cancelled"
    assert first.finished is None and len(server.posted("/chat/completions")) == 1  # it never got its turn
    client.engine.cancel(first, "cancelled", "the test is over")
