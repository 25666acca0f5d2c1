"""Conversations over HTTP (agent.service.sessions): the scripted conversation turn by turn on /v1/ask with a
session id (each turn's answer and image), sessions listed, their history and images served, deleted and
expiring, an unknown session asked about, and a turn streamed as Server-Sent Events."""

import io
import json
import time

import numpy as np
import pytest
from PIL import Image as PILImage

from chat_script import ORACLE, SCRIPT, check_images, needs_lite, pixels
from service_support import photo

pytestmark = [pytest.mark.models, needs_lite]


def png(response) -> np.ndarray:
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    return np.asarray(PILImage.open(io.BytesIO(response.content)).convert("RGB"))


def test_a_scripted_conversation_over_http(make_client):
    client = make_client(llms=(ORACLE,))
    results = []
    for index, (typed, read, status, answer) in enumerate(SCRIPT):
        files = {"image": photo("family_dinner.jpg"), "right": photo("dog.jpg")} if index == 0 else None
        response = client.post("/v1/ask", data={"query": typed, "session": "dinner-and-dog"}, files=files)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["session"], body["turn"], body["resolved_query"], body["status"]) == \
            ("dinner-and-dog", index + 1, read, status), body
        if answer is not None:
            assert body["said"] == answer, body
            assert body["answer"] == (answer if body["answer_type"] == "text" else body["image_url"])
        results.append(body)
    assert results[9]["reason"].startswith("which thing does 'them' mean?")
    check_images(results, lambda body: png(client.get(body["image_url"])) if body["image_url"] else None)

    listed = client.get("/v1/sessions").json()["sessions"]
    assert [s["id"] for s in listed] == ["dinner-and-dog"] and listed[0]["turns"] == len(SCRIPT)
    history = client.get("/v1/sessions/dinner-and-dog").json()
    assert [t["text"] for t in history["history"]] == [t[0] for t in SCRIPT]
    assert len(history["images"]) == 4   # two photos, two edits: undo and 'go back' stored nothing again
    current = next(i for i in history["images"] if i["current"])
    assert np.array_equal(png(client.get(current["url"])), pixels(photo_path("dog.jpg")))

    assert client.delete("/v1/sessions/dinner-and-dog").json() == {"deleted": "dinner-and-dog"}
    gone = client.post("/v1/ask", data={"query": "and cats?", "session": "dinner-and-dog"})
    assert gone.status_code == 404 and "send an image to start it" in gone.json()["error"]
    assert client.get(current["url"]).status_code == 404


def test_new_sessions_expire_and_ids_are_checked(make_client):
    client = make_client(llms=(ORACLE,), result_ttl_s=0.5)
    first = client.post("/v1/ask", data={"query": "how many faces are there?", "session": "new"},
                        files={"image": photo("family_dinner.jpg")}).json()
    assert first["answer"] == "8" and len(first["session"]) == 32
    follow = client.post("/v1/ask", data={"query": "blur them", "session": first["session"]}).json()
    assert follow["resolved_query"] == "blur the faces" and follow["answer_type"] == "image"
    assert client.get("/v1/sessions").json()["sessions"][0]["expires_in_s"] <= 0.5
    time.sleep(0.7)
    assert client.get("/v1/sessions").json() == {"sessions": []}
    bad = client.post("/v1/ask", data={"query": "hello", "session": "../etc"}, files={"image": photo("dog.jpg")})
    assert bad.status_code == 422 and "session id" in bad.json()["error"]


def test_a_turn_streams_its_events(make_client):
    client = make_client(llms=(ORACLE,))
    client.post("/v1/ask", data={"query": "how many faces are there?", "session": "s1"},
                files={"image": photo("family_dinner.jpg")})
    with client.stream("POST", "/v1/ask", data={"query": "blur them", "session": "s1"},
                       headers={"Accept": "text/event-stream"}) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run" and "step" in kinds and kinds[-2:] == ["answer", "done"], kinds
    assert events[-1]["result"]["resolved_query"] == "blur the faces" and events[-1]["result"]["turn"] == 2


def photo_path(name):
    from chat_script import PHOTOS

    return PHOTOS / name


def test_a_turn_that_fails_still_names_its_session(make_client, monkeypatch):
    """A bug inside a turn ends it as an internal error, in the run's usual shape, with the session it
    belonged to (so the page's conversation view and an MCP client know which conversation failed)."""
    from loupe.agent.chat.conversation import Conversation

    client = make_client(llms=(ORACLE,))
    first = client.post("/v1/ask", data={"query": "how many faces are there?", "session": "s2"},
                        files={"image": photo("family_dinner.jpg")}).json()
    assert first["answer"] == "8"

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(Conversation, "turn", broken)
    failed = client.post("/v1/ask", data={"query": "and dogs?", "session": "s2"}).json()
    assert failed["status"] == "error" and "RuntimeError: boom" in failed["errors"][0]
    assert failed["session"] == "s2" and failed["session_url"] == "/v1/sessions/s2"
