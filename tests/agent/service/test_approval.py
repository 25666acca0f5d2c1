"""Approval on every route: ``/v1/run``'s edits wait for a person like an ask's, bound to the exact program and
run; a server started with ``require_approval`` makes every edit wait (asks, conversation turns, videos,
program runs, MCP) whatever the client sends; questions never wait; a decision for a run that does not wait
is a 409. Real runs over HTTP with the lite models and the scripted planner."""

import asyncio
import hashlib
import io
import json

import numpy as np
from PIL import Image as PILImage
import pytest

from service_support import PHOTOS, photo

pytestmark = pytest.mark.models

BLUR = "Blur every face"
BLUR_PROGRAM = "OBJ0=FACEDET(image=IMAGE)\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\nFINAL_RESULT=RESULT(var=IMAGE0)"
COUNT_PROGRAM = "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def test_a_program_run_that_edits_waits_then_runs_only_with_its_own_sha256(make_client):
    client = make_client()
    paused = client.post("/v1/run", data={"program": BLUR_PROGRAM, "require_approval": "true"},
                         files={"image": photo("person.jpg")})
    assert paused.status_code == 202, paused.text
    body = paused.json()
    assert body["status"] == "awaiting_approval" and body["edits"] == ["BLUR"]
    assert body["program"] == BLUR_PROGRAM and body["program_sha256"] == _sha256(BLUR_PROGRAM)
    run_id = body["id"]
    url = f"/v1/runs/{run_id}/approve"
    assert client.post(url).status_code == 422                                       # names no program
    wrong = client.post(url, params={"program_sha256": _sha256(BLUR_PROGRAM.replace("BLUR", "COLORPOP"))})
    assert wrong.status_code == 409 and "another program" in wrong.json()["error"]
    run = client.engine.run(run_id)
    assert run.status == "awaiting_approval" and run.records == {} and run.execution is None  # nothing ran
    assert client.get(f"/v1/results/{run_id}/image.png").status_code == 404              # nothing written
    done = client.post(body["approve_url"])
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "ok" and result["answer_type"] == "image" and result["kind"] == "run"
    edited = client.get(result["image_url"])
    assert edited.headers["content-type"] == "image/png"
    before, after = _pixels((PHOTOS / "person.jpg").read_bytes()), _pixels(edited.content)
    assert before.shape == after.shape and np.abs(before - after).max() > 30   # the face was blurred
    assert [e["event"] for e in client.get(f"/v1/runs/{run_id}").json()["events"]][:2] == [
        "approval_required", "approval"]
    again = client.post(body["approve_url"])
    assert again.status_code == 409 and "not waiting for approval" in again.json()["error"]


def test_a_program_run_without_approval_asked_runs_at_once_and_a_rejected_one_writes_nothing(make_client):
    client = make_client()
    ran = client.post("/v1/run", data={"program": BLUR_PROGRAM}, files={"image": photo("person.jpg")})
    assert ran.status_code == 200 and ran.json()["answer_type"] == "image"   # the server does not require it
    paused = client.post("/v1/run", data={"program": BLUR_PROGRAM, "require_approval": "true"},
                         files={"image": photo("person.jpg")}).json()
    result = client.post(paused["reject_url"]).json()
    assert result["status"] == "rejected" and result["image_url"] is None and result["steps"] == []
    assert client.engine.run(paused["id"]).records == {}
    assert client.get(f"/v1/results/{paused['id']}/image.png").status_code == 404


def test_an_approval_for_one_run_does_not_approve_another(make_client):
    client = make_client(require_approval=True)
    colour = BLUR_PROGRAM.replace("BLUR", "COLORPOP")
    first = client.post("/v1/run", data={"program": BLUR_PROGRAM}, files={"image": photo("person.jpg")}).json()
    second = client.post("/v1/run", data={"program": colour}, files={"image": photo("person.jpg")}).json()
    crossed = client.post(f"/v1/runs/{second['id']}/approve", params={"program_sha256": first["program_sha256"]})
    assert crossed.status_code == 409 and "another program" in crossed.json()["error"]
    assert client.engine.run(second["id"]).status == "awaiting_approval"
    assert client.post(first["approve_url"]).json()["status"] == "ok"
    assert client.engine.run(second["id"]).status == "awaiting_approval"   # still waiting for its own decision
    assert client.post(second["reject_url"]).json()["status"] == "rejected"


def test_a_decision_for_a_run_that_does_not_wait_is_a_409(make_client):
    client = make_client(require_approval=True)
    question = client.post("/v1/run", data={"program": COUNT_PROGRAM}, files={"image": photo("dog.jpg")})
    assert question.status_code == 200 and question.json()["answer"] == 1   # a question never waits
    run_id = question.json()["id"]
    for decision in ("approve", "reject"):
        refused = client.post(f"/v1/runs/{run_id}/{decision}", params={"program_sha256": _sha256(COUNT_PROGRAM)})
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/json"
        assert refused.json()["error"] == f"run {run_id} is not waiting for approval (it is ok)"


def test_edits_past_a_clients_cap_are_not_run_even_when_submitted_at_once(make_client):
    """The per-client cap counts edits waiting now: two admitted before either waits, the second is not run."""
    from loupe.programs.images import decode_image
    from service_support import until

    client = make_client(require_approval=True, max_pending_approvals_per_client=1, workers=1)
    image = decode_image(photo("person.jpg")[1], "person.jpg", 40.0)
    client.engine.slots.acquire()  # the one worker is busy: both are admitted before either can plan
    runs = [client.engine.submit_ask(image, BLUR, client="one") for _ in range(2)]
    client.engine.slots.release()
    assert until(lambda: all(r.done or r.status == "awaiting_approval" for r in runs), 30)
    waiting = [r for r in runs if r.status == "awaiting_approval"]
    refused = [r for r in runs if r.done]
    assert len(waiting) == len(refused) == 1 and refused[0].status == "rejected" and refused[0].records == {}
    assert "max_pending_approvals_per_client" in refused[0].result["errors"][-1]
    again = client.engine.submit_ask  # a third, while one waits, is refused before it starts (429)
    with pytest.raises(Exception, match="1 edits waiting for approval") as error:
        again(image, BLUR, client="one")
    assert error.value.status == 429
    client.engine.decide(waiting[0].id, False)
    assert until(lambda: waiting[0].done, 10) and client.engine.awaiting == 0


def test_the_server_switch_makes_an_ask_wait_whatever_the_client_sends(make_client):
    client = make_client(require_approval=True)
    assert client.get("/v1/health").json()["require_approval"] is True
    paused = client.post("/v1/ask", data={"query": BLUR, "require_approval": "false"},
                         files={"image": photo("person.jpg")})
    assert paused.status_code == 202 and paused.json()["edits"] == ["BLUR"], paused.text
    assert client.engine.run(paused.json()["id"]).records == {}
    question = client.post("/v1/ask", data={"query": "How many bicycles?", "require_approval": "false"},
                           files={"image": photo("dog.jpg")})
    assert question.status_code == 200 and question.json()["answer"] == "1"   # a question never waits
    done = client.post(paused.json()["approve_url"])
    assert done.status_code == 200 and done.json()["answer_type"] == "image"


def test_the_server_switch_covers_a_conversation_turn(make_client):
    client = make_client(require_approval=True)
    first = client.post("/v1/ask", data={"query": "How many people?", "session": "talk"},
                        files={"image": photo("person.jpg")})
    assert first.status_code == 200 and first.json()["session"] == "talk"
    turn = client.post("/v1/ask", data={"query": BLUR, "session": "talk", "require_approval": "false"})
    assert turn.status_code == 202, turn.text
    assert client.engine.run(turn.json()["id"]).records == {}
    history = client.get("/v1/sessions/talk").json()
    assert history["turns"] == 1 and len(history["images"]) == 1   # the edit has not joined the conversation
    result = client.post(turn.json()["approve_url"]).json()
    assert result["status"] == "ok" and result["session"] == "talk" and result["answer_type"] == "image"
    assert len(client.get("/v1/sessions/talk").json()["images"]) == 2


def test_the_server_switch_covers_a_video_edit(make_client):
    client = make_client(require_approval=True)
    video = ("clip.mp4", (PHOTOS.parent / "video" / "megamind.mp4").read_bytes(), "video/mp4")
    paused = client.post("/v1/ask", data={"query": BLUR, "fps": "2"}, files={"image": video})
    assert paused.status_code == 202 and paused.json()["edits"] == ["BLUR_FRAMES"], paused.text
    result = client.post(paused.json()["reject_url"]).json()
    assert result["status"] == "rejected" and result["video_url"] is None
    assert client.get(f"/v1/results/{paused.json()['id']}/video.mp4").status_code == 404


def test_the_server_switch_covers_mcp(tmp_path):
    """MCP's tools always wait for decide_edit; under the switch too, and a question is answered at once."""
    from mcp import Client

    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp
    from service_support import make_config

    engine = Engine(make_config(tmp_path, allow_dirs=(PHOTOS,), require_approval=True))
    server = build_mcp(engine, edits_dir=tmp_path / "edits")
    person = str(PHOTOS / "person.jpg")

    def text(result) -> dict:
        return json.loads(next(c.text for c in result.content if c.type == "text"))

    async def session():
        async with Client(server, read_timeout_seconds=120) as client:
            counted = await client.call_tool("run_program", {"program": COUNT_PROGRAM,
                                                             "image_path": str(PHOTOS / "dog.jpg")})
            turn = await client.call_tool("ask", {"query": BLUR, "image_path": person, "session": "new"})
            program = await client.call_tool("run_program", {"program": BLUR_PROGRAM, "image_path": person})
            return text(counted), text(turn), text(program)

    try:
        counted, turn, program = asyncio.run(session())
    finally:
        for run in engine.runs.matching(lambda r: not r.done):  # nobody decides: they end now, not at expiry
            engine.cancel(run, "rejected", "the test ended")
        engine.close()
    assert counted["status"] == "ok" and counted["answer"] == 1
    assert turn["status"] == "awaiting_approval" and turn["edits"] == ["BLUR"]
    assert program["status"] == "awaiting_approval" and program["program_sha256"] == _sha256(BLUR_PROGRAM)
    assert not (tmp_path / "edits").exists()   # nothing was written
