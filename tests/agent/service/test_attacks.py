"""Issue 24's fault and attack cases against the service: approval bound to each program (after a replan,
in SayCan, unknown runs), cancellation (504, rejection, disconnects, expiry, per-client caps, workers
free while a person decides), the body cap for chunked uploads, the Host/Origin allowlist on every route,
/v1/check off the event loop, refusals in the JSON error shape, and the token kept out of the address."""

import asyncio
import json
import re
import socket
import threading
import time

import pytest

from service_support import ORACLE, LiveServer, make_config, photo, registry_with_slow_loc, until

pytestmark = pytest.mark.models

HORSES = "How many bicycles?"
BLUR = "Blur every face"
FAILING_EDIT = ("OBJ0=LOC(image=IMAGE,object='boom')\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\n"
                "FINAL_RESULT=RESULT(var=IMAGE0)\n")
OTHER_EDIT = ("OBJ0=LOC(image=IMAGE,object='tie')\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\n"
              "FINAL_RESULT=RESULT(var=IMAGE0)\n")
FACES = "person.jpg"  # one face


def _oracle():
    from loupe.agent.evaluation.oracle import OracleLLM

    return OracleLLM.from_file(ORACLE.split(":", 1)[1])


class _Sequence:
    """An LLM whose completions are ``programs`` in turn (the last one repeated): plan, then replan."""

    def __init__(self, programs):
        self._oracle, self.programs, self.calls = _oracle(), list(programs), 0

    def complete(self, prompt, **options):
        from loupe.agent.evaluation.oracle import OracleCompletion

        program = self.programs[min(self.calls, len(self.programs) - 1)]
        self.calls += 1
        self._oracle.usage.calls += 1
        return OracleCompletion(program, len(prompt) // 4)

    def __getattr__(self, name):
        return getattr(self._oracle, name)


class _SayCanBlur:
    """A scripted SayCan scorer: FACEDET, BLUR and RESULT steps are likely, everything else is not."""

    def __init__(self):
        self._oracle = _oracle()

    def score(self, prompt, continuations):
        self._oracle.usage.calls += 1
        return [0.0 if re.search(r"=(FACEDET|BLUR|RESULT)\(", c) else -40.0 for c in continuations]

    def __getattr__(self, name):
        return getattr(self._oracle, name)


# ---- approval is bound to each program ---------------------------------------------------------------

def test_a_replanned_edit_waits_for_its_own_approval(make_client):
    client = make_client(registry=registry_with_slow_loc(), llm_factory=lambda spec: _Sequence([FAILING_EDIT, OTHER_EDIT]))
    first = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    assert first.status_code == 202, first.text
    assert first.json()["program"] == FAILING_EDIT.strip() or "'boom'" in first.json()["program"]
    second = client.post(first.json()["approve_url"])  # its LOC crashes; the replan makes another edit
    assert second.status_code == 202, second.text     # ... which waits: it was never approved
    assert "'tie'" in second.json()["program"] and second.json()["program_sha256"] != first.json()["program_sha256"]
    run_id = first.json()["id"]
    assert client.get(f"/v1/runs/{run_id}").json()["status"] == "awaiting_approval"
    time.sleep(0.3)
    assert client.engine.run(run_id).status == "awaiting_approval"  # and stays waiting
    stale = client.post(first.json()["approve_url"])   # the first approval again: not for this program
    assert stale.status_code == 409 and "another program" in stale.json()["error"]
    done = client.post(second.json()["approve_url"])
    assert done.status_code == 200 and done.json()["answer_type"] == "image", done.json()
    assert [a.decision for a in client.engine.run(run_id).approvals] == [True, True]


def test_an_approval_must_name_the_program_and_an_unknown_run_is_refused(make_client):
    client = make_client()
    paused = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    assert paused.status_code == 202
    url = f"/v1/runs/{paused.json()['id']}/approve"
    assert client.post(url).status_code == 422                                   # names no program
    assert client.post(url, params={"program_sha256": "0" * 64}).status_code == 409  # names another
    assert client.engine.run(paused.json()["id"]).status == "awaiting_approval"
    assert client.post("/v1/runs/nope/approve", params={"program_sha256": paused.json()["program_sha256"]}
                       ).status_code == 404
    # the gate itself, called outside any run (no context), refuses
    outside = []
    thread = threading.Thread(target=lambda: outside.append(client.engine._approval_gate(BLUR, ["BLUR"])))
    thread.start()
    thread.join()
    assert outside == [False]
    assert client.post(paused.json()["reject_url"]).json()["status"] == "rejected"


def test_saycan_asks_before_each_editing_step(make_client):
    client = make_client(llm_factory=lambda spec: _SayCanBlur())
    first = client.post("/v1/ask", data={"query": BLUR, "mode": "saycan", "require_approval": "true"},
                        files={"image": photo(FACES)})
    assert first.status_code == 202, first.text
    assert first.json()["edits"] == ["BLUR"] and "BLUR(" in first.json()["program"]
    second = client.post(first.json()["approve_url"])
    assert second.status_code == 202, second.text  # the next editing step asks again
    assert second.json()["program"].count("BLUR(") == first.json()["program"].count("BLUR(") + 1
    rejected = client.post(second.json()["reject_url"]).json()
    assert rejected["status"] == "rejected"
    run = client.engine.run(first.json()["id"])
    assert [a.decision for a in run.approvals] == [True, False]
    assert sum(1 for r in run.saycan.execution.records if r.module == "BLUR") == 1  # only the approved one ran


class _Named(_Sequence):
    """A scripted planner that names itself: provider ``test``, model ``name``; it always plans ``program``."""

    def __init__(self, name, program):
        super().__init__([program])
        self.provider, self.model = "test", name


def test_the_program_cache_keeps_each_llms_programs_apart(tmp_path):
    """One client's model must never answer another's request from the cache, nor after a restart."""
    from fastapi.testclient import TestClient

    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    plain = "BOX0=LOC(image=IMAGE,object='bicycle')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n"
    other = plain.replace("FINAL_RESULT=RESULT(var=ANSWER0)", 'ANSWER1=EVAL(expr="{ANSWER0} * 1")\n'
                                                             "FINAL_RESULT=RESULT(var=ANSWER1)")
    planners = {"local-one": plain, "remote-two": other}

    def ask(llm: str) -> dict:
        engine = Engine(make_config(tmp_path, llms=tuple(planners), use_cache=True),
                        llm_factory=lambda spec: _Named(spec, planners[spec]))
        with TestClient(create_app(engine=engine, mcp=False), base_url="http://127.0.0.1:8765") as client:
            body = client.post("/v1/ask", data={"query": HORSES, "llm": llm}, files={"image": photo("dog.jpg")}).json()
        engine.close()  # each ask is a fresh server on the same cache file: a restart
        assert body["status"] == "ok", body
        return body

    first = ask("local-one")
    assert not first["usage"]["from_cache"] and "EVAL" not in first["program"]
    second = ask("remote-two")  # the same question, another model: planned anew, by that model
    assert not second["usage"]["from_cache"] and "EVAL" in second["program"]
    assert ask("local-one")["usage"]["from_cache"] and "EVAL" not in ask("local-one")["program"]
    assert "EVAL" in ask("remote-two")["program"]


# ---- cancellation and workers ------------------------------------------------------------------------

def test_a_request_past_its_limit_stops_its_run(make_client):
    client = make_client(registry=registry_with_slow_loc(1.0), request_timeout_s=0.3)
    response = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")})
    assert response.status_code == 504
    run = client.engine.run(response.json()["id"])
    assert until(lambda: run.finished is not None, 10)
    assert run.status == "timed_out" and "BOX0" in run.records and "ANSWER0" not in run.records  # COUNT never ran
    assert client.engine.running == 0 and client.engine.admission.admitted == 0


def test_a_run_past_its_limit_ends_with_no_client_waiting(make_client):
    from loupe.programs.images import decode_image

    client = make_client(registry=registry_with_slow_loc(1.0), request_timeout_s=0.3)
    run = client.engine.submit_ask(decode_image(photo("dog.jpg")[1], "dog.jpg", 40.0), HORSES)  # nobody waits
    assert until(lambda: run.finished is not None, 10)
    assert run.status == "timed_out" and "ANSWER0" not in run.records  # stopped at its next step
    assert "time limit of 0.3 s" in run.result["errors"][-1] and client.engine.running == 0


def test_waiting_for_approval_holds_no_worker(make_client):
    client = make_client(workers=1, max_queue=0)
    paused = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    assert paused.status_code == 202
    other = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")})
    assert other.status_code == 200 and other.json()["answer"] == "1"  # the one worker was free
    done = client.post(paused.json()["approve_url"])
    assert done.status_code == 200 and done.json()["status"] == "ok"
    assert client.engine.admission.admitted == 0 and client.engine.awaiting == 0


def test_pending_approvals_are_capped_per_client_and_expire(make_client):
    client = make_client(max_pending_approvals_per_client=2, approval_timeout_s=1.0)
    ask = lambda: client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"},  # noqa: E731
                              files={"image": photo(FACES)})
    first, second, third = ask(), ask(), ask()
    assert first.status_code == second.status_code == 202
    assert third.status_code == 429 and third.json()["limit"] == "max_pending_approvals_per_client"
    run = client.engine.run(first.json()["id"])
    assert until(lambda: run.finished is not None, 10)
    assert run.status == "rejected" and "expired" in " ".join(run.result["errors"])
    assert client.post(first.json()["approve_url"]).status_code == 409  # expired: nothing to approve
    assert until(lambda: client.engine.awaiting == 0, 10)
    assert ask().status_code == 202  # room again


def test_the_per_client_approval_caps_retry_after_is_when_its_oldest_approval_expires(make_client):
    client = make_client(max_pending_approvals_per_client=1, approval_timeout_s=300.0)
    first = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    assert first.status_code == 202
    created = client.engine.run(first.json()["id"]).pending.created
    refused = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    assert refused.status_code == 429
    expires_in = created + 300.0 - time.time()
    assert expires_in - 1 <= int(refused.headers["Retry-After"]) <= expires_in + 1   # not a fixed 1 s
    client.post(first.json()["reject_url"])


def test_a_rejected_edit_stops_its_run(make_client):
    client = make_client()
    paused = client.post("/v1/ask", data={"query": BLUR, "require_approval": "true"}, files={"image": photo(FACES)})
    run = client.engine.run(paused.json()["id"])
    result = client.post(paused.json()["reject_url"]).json()
    assert result["status"] == "rejected" and run.cancelled.is_set() and run.records == {}


@pytest.fixture
def live(tmp_path):
    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    servers = []

    def start(registry=None, **options):
        engine = Engine(make_config(tmp_path, **options), registry=registry)
        server = LiveServer(create_app(engine=engine))
        server.engine = engine
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        server.engine.close()


def test_a_client_that_disconnects_while_its_edit_waits_cancels_the_run(live):
    import httpx

    server = live()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        with http.stream("POST", "/v1/ask", data={"query": BLUR, "require_approval": "true"},
                         files={"image": photo(FACES)}, headers={"Accept": "text/event-stream"}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: ") and json.loads(line[6:])["event"] == "run":
                    run_id = json.loads(line[6:])["id"]
                if line.startswith("data: ") and json.loads(line[6:])["event"] == "approval_required":
                    break
    # the stream is closed: nobody is there to approve
    run = server.engine.run(run_id)
    assert until(lambda: run.finished is not None, 10), run.status
    assert run.status == "cancelled" and server.engine.awaiting == 0 and server.engine.admission.admitted == 0


def test_a_client_that_disconnects_before_its_answer_cancels_the_run(live):
    server = live(registry=registry_with_slow_loc(1.0))
    host, port = server.url.removeprefix("http://").split(":")
    boundary = "loupeboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{HORSES}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"dog.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + photo("dog.jpg")[1] + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /v1/ask HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: multipart/form-data; boundary={boundary}"
            f"\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(head + body)
        assert until(lambda: server.engine.running == 1, 10)
    assert until(lambda: server.engine.running == 0 and server.engine.admission.admitted == 0, 10)
    run = next(r for r in server.engine.runs._runs.values())
    assert run.status == "cancelled" and "ANSWER0" not in run.records


def test_a_long_run_is_kept_as_long_as_others_after_it_finishes():
    """The soak found it: kept runs were dropped in the order they started, so a run that took long (a
    504, an edit approved after minutes) lost its results the moment it finished when the store was full."""
    from loupe.agent.service.runs import Run, RunStore

    store = RunStore(ttl_s=3600, max_runs=3)
    runs = [store.add(Run(f"r{i}", "ask")) for i in range(4)]
    for index, run in enumerate(runs[1:] + runs[:1]):  # the first to start finishes last
        run.finished = time.time() + index
    assert store.get("r0") is runs[0]                   # kept: it finished last
    assert store.get("r1") is None and store.get("r2") is runs[2]  # the first to finish went


def test_retry_after_is_computed_from_the_queue():
    from loupe.agent.service.limits import Admission, ServiceError

    now = [0.0]
    admission = Admission(workers=2, max_queue=2, clock=lambda: now[0])
    for key in "abcd":
        admission.admit()
    admission.started("a")
    admission.started("b")
    now[0] = 30.0  # two runs working for 30 s, two queued behind them
    with pytest.raises(ServiceError) as refused:
        admission.admit()
    assert refused.value.status == 503 and refused.value.retry_after_s >= 60  # two rounds of ~30 s


# ---- limits on every path ----------------------------------------------------------------------------

def test_a_chunked_upload_is_cut_off_at_the_cap():
    from loupe.agent.service.guard import Guard

    chunks_read = []

    async def app(scope, receive, send):  # reads the whole body, as the form parser does
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks_read.append(len(message["body"]))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive():
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}  # never ends

    sent = []

    async def send(message):
        sent.append(message)

    guard = Guard(app, None, max_body_bytes=1_000_000, allowed_hosts=("127.0.0.1",))
    scope = {"type": "http", "method": "POST", "path": "/v1/ask", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1:8765"), (b"transfer-encoding", b"chunked")]}
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["limit"] == "max_upload_bytes"
    assert sum(chunks_read) <= 1_000_000  # what passed the cap never reached the app


def test_a_chunked_upload_over_the_cap_gets_413_from_the_server(live):
    import httpx

    # the body cap is the larger of 2 x a photo's and a video's upload cap, + 1 MB
    server = live(max_upload_bytes=200_000, max_video_upload_bytes=200_000)

    sent = []

    def chunks():  # a well-formed multipart upload of 26 MB, no Content-Length
        yield (b'--b\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n")
        for _ in range(400):
            sent.append(65536)
            yield b"x" * 65536

    with httpx.Client(base_url=server.url, timeout=30) as http:
        try:
            response = http.post("/v1/ask", content=chunks(),
                                 headers={"Content-Type": "multipart/form-data; boundary=b"})
        except httpx.HTTPError:  # the server answered and closed the connection while the client still sent
            response = None
    assert len(sent) < 300  # the server stopped taking the body long before its end
    assert response is None or (response.status_code == 413 and response.json()["limit"] == "max_upload_bytes")


ROUTES = [("GET", "/"), ("GET", "/v1/health"), ("GET", "/v1/tools"), ("POST", "/v1/check"), ("POST", "/v1/ask"),
          ("GET", "/docs"), ("GET", "/ui/app.js"), ("POST", "/mcp"), ("GET", "/v1/runs/x")]


def test_a_rebinding_host_is_refused_on_every_route(make_client):
    client = make_client()
    for method, path in ROUTES:
        response = client.request(method, path, headers={"Host": "attacker.example:8765"})
        assert response.status_code == 403, (method, path, response.status_code)
        assert "not one this server answers to" in response.json()["error"]
    assert client.get("/v1/health", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/v1/health", headers={"Host": "[::1]:8765"}).status_code == 200


def test_a_foreign_origin_is_refused_on_every_route(make_client):
    client = make_client()
    for method, path in ROUTES:
        response = client.request(method, path, headers={"Origin": "http://attacker.example"})
        assert response.status_code == 403, (method, path)
        assert "origin" in response.json()["error"]
    assert client.request("POST", "/v1/check", headers={"Origin": "null"}).status_code == 403
    assert client.get("/v1/health", headers={"Origin": "http://127.0.0.1:8765"}).status_code == 200


def test_the_host_allowlist_is_configurable(make_client):
    client = make_client(allowed_hosts=("loupe.lan", "*.example.org"))
    assert client.get("/v1/health", headers={"Host": "loupe.lan:8765"}).status_code == 200
    assert client.get("/v1/health", headers={"Host": "a.example.org"}).status_code == 200
    assert client.get("/v1/health", headers={"Host": "attacker.example"}).status_code == 403
    assert make_client(allowed_hosts=("*",)).get("/v1/health", headers={"Host": "any.where"}).status_code == 200


# ---- smaller items -----------------------------------------------------------------------------------

def test_check_runs_off_the_event_loop(make_client):
    import httpx

    client = make_client()
    engine = client.engine
    real = engine.check
    engine.check = lambda text: (time.sleep(1.0), real(text))[1]
    app = client.app

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8765") as http:
            start = time.monotonic()
            checks = [asyncio.create_task(http.post("/v1/check", data={"program": "FINAL_RESULT=RESULT(var=1)"}))
                      for _ in range(3)]
            await asyncio.sleep(0.1)
            health = await http.get("/v1/health")  # while three 1-second checks are on
            took = time.monotonic() - start
            await asyncio.gather(*checks)
            return health, took

    health, took = asyncio.run(go())
    assert health.status_code == 200 and took < 0.8, took


def test_refusals_have_the_json_error_shape(make_client):
    from loupe.agent.api import MAX_QUERY_CHARS

    client = make_client()
    long = client.post("/v1/ask", data={"query": "x" * (MAX_QUERY_CHARS + 1)}, files={"image": photo("dog.jpg")})
    assert long.status_code == 422 and long.json()["limit"] == "max_query_chars"
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    wrong = client.get("/v1/ask")
    assert wrong.status_code == 405 and "error" in wrong.json()
    fields = {f"f{i}": "x" for i in range(1100)}  # past the multipart parser's field limit
    many = client.post("/v1/ask", data={"query": HORSES, **fields}, files={"image": photo("dog.jpg")})
    assert many.status_code == 400 and many.json()["limit"] == "max_form_parts" and "detail" not in many.json()
    huge = client.post("/v1/check", data={"program": "x" * (1024 * 1024 + 1)})  # a text field past 1 MB
    assert huge.status_code == 413 and huge.json()["limit"] == "max_form_field_bytes"
    broken = client.post("/v1/ask", content=b"--b\r\nx", headers={"Content-Type": "multipart/form-data"})
    assert broken.status_code == 400 and broken.json() == {"error": "bad request: Missing boundary in multipart."}
    as_json = client.post("/v1/ask", json={"query": HORSES})  # not a form
    assert as_json.status_code == 422 and set(as_json.json()) == {"error"}


def test_a_crash_in_a_handler_answers_500_in_the_json_shape(make_client):
    from fastapi.testclient import TestClient

    client = make_client()
    client.engine.health = lambda: 1 / 0  # a bug
    crashing = TestClient(client.app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
    response = crashing.get("/v1/health")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: ZeroDivisionError: division by zero"}


def test_the_token_moves_to_an_httponly_cookie(make_client):
    client = make_client(token="s3cret")
    page = client.get("/?token=s3cret")
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert page.headers["referrer-policy"] == "no-referrer"
    script = client.get("/ui/app.js").text
    assert "history.replaceState" in script and 'searchParams.delete("token")' in script
