"""The HTTP API with the real app and the lite models: ask, run, check, SSE, approval, tools, health."""

import json

import pytest

from service_support import photo

pytestmark = pytest.mark.models


def test_ask_answers_with_program_steps_timings_and_usage(make_client):
    client = make_client()
    response = client.post("/v1/ask", data={"query": "How many bicycles?"}, files={"image": photo("dog.jpg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["answer"] == "1" and body["answer_type"] == "text"
    assert body["program"].startswith("BOX0=LOC(image=IMAGE,object='bicycle')")
    assert [s["output"] for s in body["steps"]] == ["BOX0", "ANSWER0", "FINAL_RESULT"]
    assert body["steps"][0]["thumbnail"].endswith("/steps/BOX0.png") and body["steps"][1]["thumbnail"] is None
    assert body["usage"]["llm_calls"] == 1 and body["usage"]["prompt_tokens"] > 0
    assert body["timings"]["total_ms"] >= body["timings"]["run_ms"] > 0
    thumb = client.get(body["steps"][0]["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    page = client.get(body["rationale_url"])
    assert page.status_code == 200 and "Loupe rationale" in page.text and "LOC(image=IMAGE,object=" in page.text


def test_two_photos_for_a_statement(make_client):
    client = make_client()
    response = client.post("/v1/ask", data={"query": "Are there more horses in the left photo than dogs in the "
                                                     "right one?"},
                           files={"image": photo("horses.jpg"), "right": photo("dog.jpg")})
    assert response.json()["answer"] == "yes"


def test_sse_streams_plan_check_steps_answer_done_in_order(make_client):
    client = make_client()
    with client.stream("POST", "/v1/ask", data={"query": "How many bicycles?"}, files={"image": photo("dog.jpg")},
                       headers={"Accept": "text/event-stream"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    kinds = [e["event"] for e in events]
    assert kinds == ["run", "plan", "check", "step", "step", "step", "answer", "done"], kinds
    assert [e["output"] for e in events if e["event"] == "step"] == ["BOX0", "ANSWER0", "FINAL_RESULT"]
    assert events[3]["thumbnail"].endswith("/steps/BOX0.png")
    assert events[-2]["answer"] == "1" and events[-1]["result"]["answer"] == "1"


def test_an_edit_waits_for_approval_then_runs(make_client):
    client = make_client()
    response = client.post("/v1/ask", data={"query": "Blur every face", "require_approval": "true"},
                           files={"image": photo("person.jpg")})
    assert response.status_code == 202, response.text
    paused = response.json()
    assert paused["status"] == "awaiting_approval" and paused["edits"] == ["BLUR"]
    assert "BLUR(image=IMAGE,object=OBJ0)" in paused["program"]
    assert client.get(f"/v1/runs/{paused['id']}").json()["status"] == "awaiting_approval"
    done = client.post(paused["approve_url"])
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "ok" and result["answer_type"] == "image"
    image = client.get(result["image_url"] + "?download=true")
    assert image.headers["content-type"] == "image/png" and "attachment" in image.headers["content-disposition"]
    assert client.post(paused["approve_url"]).status_code == 409


def test_a_rejected_edit_does_not_run(make_client):
    client = make_client()
    paused = client.post("/v1/ask", data={"query": "Blur every face", "require_approval": "true"},
                         files={"image": photo("person.jpg")}).json()
    result = client.post(paused["reject_url"]).json()
    assert result["status"] == "rejected" and result["steps"] == [] and result["image_url"] is None


def test_run_a_program_and_a_task_list(make_client, tmp_path):
    client = make_client()
    program = "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"
    body = client.post("/v1/run", data={"program": program}, files={"image": photo("dog.jpg")}).json()
    assert body["status"] == "ok" and body["answer"] == 1 and body["result_type"] == "Number"
    tasks = json.dumps([{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "x.jpg", "text": "dog"}},
                        {"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}}])
    assert client.post("/v1/run", data={"program": tasks}, files={"image": photo("dog.jpg")}).json()["answer"] == 1
    broken = client.post("/v1/run", data={"program": "BOX0=LOC(image=IMAGE"}, files={"image": photo("dog.jpg")})
    assert broken.status_code == 422 and "line 1" in broken.json()["error"]


def test_check_reports_errors_with_line_and_hint(make_client):
    client = make_client()
    good = client.post("/v1/check", data={"program": "BOX0=LOC(image=IMAGE,object='dog')\n"
                                                     "FINAL_RESULT=RESULT(var=BOX0)"}).json()
    assert good["ok"] and good["steps"] == 2 and good["inputs"] == ["IMAGE"]
    bad = client.post("/v1/check", data={"program": "BOX0=LOCATE(image=IMAGE,object='dog')\n"
                                                    "FINAL_RESULT=RESULT(var=BOX0)"}).json()
    assert not bad["ok"] and bad["errors"][0]["line"] == 1 and "LOC" in bad["errors"][0]["suggestion"]


def test_tools_and_health(make_client):
    client = make_client()
    tools = {t["name"]: t for t in client.get("/v1/tools").json()}
    assert tools["LOC"]["signature"].startswith("LOC(image: Image") and tools["COUNT"]["needs_model"] is False
    health = client.get("/v1/health").json()
    assert health["ok"] and health["capacity"] == 64 + 256


def test_sse_pauses_for_approval_and_the_approval_streams_the_rest(make_client):
    client = make_client()
    with client.stream("POST", "/v1/ask", data={"query": "Blur every face", "require_approval": "true"},
                       files={"image": photo("person.jpg")}, headers={"Accept": "text/event-stream"}) as response:
        events = []
        lines = response.iter_lines()  # kept open: a client that closes its stream cancels its run
        for line in lines:
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1]["event"] == "approval_required":
                    break
        assert [e["event"] for e in events] == ["run", "plan", "check", "approval_required"]
        with client.stream("POST", events[-1]["approve_url"], headers={"Accept": "text/event-stream"}) as rest:
            after = [json.loads(line[6:]) for line in rest.iter_lines() if line.startswith("data: ")]
    kinds = [e["event"] for e in after]
    assert kinds == ["run", "approval", "step", "step", "step", "answer", "done"], kinds
    assert after[1]["approved"] is True and after[-1]["result"]["answer_type"] == "image"
