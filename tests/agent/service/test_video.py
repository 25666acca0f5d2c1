"""Videos through the HTTP API: uploads and --allow-dir paths, their limits, per-track times, edited videos
served with approval, and cancellation between frames batches. Real lite tools on the tests/data/video clips
(short clips, low fps)."""

import json
from pathlib import Path
import time

import pytest

from service_support import LiveServer, make_config, photo, until

DATA = Path(__file__).resolve().parents[2] / "data" / "video"
PEOPLE = json.loads((DATA / "labels.json").read_text(encoding="utf-8"))["pedestrians.mp4"]["people"]


@pytest.fixture(scope="module")
def models():
    from loupe.tools.lite.pack import cache_dir, is_pulled

    if not is_pulled(cache_dir()):
        pytest.skip("lite model pack not installed; run `loupe models pull`")


def clip(name: str, as_name: str | None = None):
    return (as_name or name, (DATA / name).read_bytes(), "video/mp4")


def test_an_uploaded_video_is_answered_with_per_track_times(models, make_client):
    client = make_client()
    response = client.post("/v1/ask", data={"query": "How many people walk past?", "fps": "2"},
                           files={"image": clip("pedestrians.mp4")})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "ok" and result["mode"] == "video" and result["sampled_fps"] == 2
    assert abs(int(result["answer"]) - PEOPLE) <= 2   # 2 fps: sparser than the CLI's default of 4
    assert result["video"] == {"path": "image (pedestrians.mp4)", "width": 640, "height": 480, "fps": 10.0,
                               "frames": 60, "duration_s": 6.0, "codec": "h264"}
    assert result["frames_analysed"] == 12 and len(result["tracks"]) == int(result["answer"])
    assert all(0 <= t["first_s"] <= t["last_s"] <= 6.0 and t["label"] == "person" for t in result["tracks"])
    assert [s["module"] for s in result["steps"]][:3] == ["FRAMES", "LOC_FRAMES", "TRACK"]
    page = client.get(result["rationale_url"])
    assert page.status_code == 200 and "Tracks" in page.text
    shown = json.dumps(result) + page.text   # the server's own file names are never shown
    assert "loupe-upload-" not in shown and "image (pedestrians.mp4)" in result["steps"][0]["value"]


def test_a_video_under_allow_dir_is_read_by_path_and_one_outside_is_refused(models, make_client, tmp_path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "later.mp4").write_bytes((DATA / "pedestrians_later.mp4").read_bytes())
    client = make_client(allow_dirs=(tmp_path / "clips",))
    result = client.post("/v1/ask", data={"query": "When does the first person appear?", "fps": "1",
                                          "image_path": str(tmp_path / "clips" / "later.mp4")}).json()
    assert result["status"] == "ok" and result["answer"].endswith(" s"), result
    assert result["video"]["path"] == str(tmp_path / "clips" / "later.mp4")
    outside = client.post("/v1/ask", data={"query": "How many people walk past?",
                                           "image_path": str(DATA / "pedestrians.mp4")})
    assert outside.status_code == 403 and outside.json()["limit"] == "allow_dirs"


def test_a_video_is_recognised_by_its_bytes_not_its_name(make_client):
    client = make_client()
    disguised = client.post("/v1/ask", data={"query": "How many people are there?"},
                            files={"image": ("photo.mp4", photo("person.jpg")[1], "video/mp4")})
    assert disguised.status_code == 200 and disguised.json()["mode"] == "program"   # a photo, whatever its name
    junk = client.post("/v1/ask", data={"query": "How many people walk past?"},
                       files={"image": ("clip.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 200, "video/mp4")})
    assert junk.status_code == 422 and "not a readable video" in junk.json()["error"]


def test_the_video_limits_answer_413_naming_the_limit(make_client):
    from loupe.tools.video import VideoLimits

    cases = [("max_duration_s", VideoLimits(max_duration_s=5.0), 5.0),
             ("max_pixels", VideoLimits(max_pixels=320 * 240), 320 * 240),
             ("max_frames", VideoLimits(max_frames=50), 50)]
    for limit, limits, value in cases:
        client = make_client(video_limits=limits)
        response = client.post("/v1/ask", data={"query": "How many people walk past?"},
                               files={"image": clip("pedestrians.mp4")})
        assert response.status_code == 413, response.text
        assert response.json()["limit"] == limit and response.json()["value"] == value
        assert "pedestrians.mp4" in response.json()["error"]
    small = make_client(max_video_upload_bytes=50_000)
    response = small.post("/v1/ask", data={"query": "How many people walk past?"},
                          files={"image": clip("pedestrians.mp4")})
    assert response.status_code == 413 and response.json()["limit"] == "max_video_upload_bytes"


def test_what_a_video_question_cannot_use_is_refused(make_client):
    client = make_client()
    for extra in ({"mode": "saycan"}, {"fps": "0"}, {"session": "new"}):
        response = client.post("/v1/ask", data={"query": "How many people walk past?", **extra},
                               files={"image": clip("megamind.mp4")})
        assert response.status_code == 422, (extra, response.text)
    photo_fps = client.post("/v1/ask", data={"query": "How many people?", "fps": "2"},
                            files={"image": photo("person.jpg")})
    assert photo_fps.status_code == 422 and "fps is for videos" in photo_fps.json()["error"]


def test_a_video_edit_waits_for_approval_then_is_served_as_mp4(models, make_client):
    from loupe.tools.video import probe

    client = make_client()
    response = client.post("/v1/ask", data={"query": "Blur every face", "require_approval": "true", "fps": "2"},
                           files={"image": clip("megamind.mp4")})
    assert response.status_code == 202, response.text
    paused = response.json()
    assert paused["edits"] == ["BLUR_FRAMES"] and "BLUR_FRAMES(video=VIDEO" in paused["program"]
    assert client.post(f"/v1/runs/{paused['id']}/approve").status_code == 422   # no program named
    done = client.post(paused["approve_url"])
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["status"] == "ok" and result["answer_type"] == "video" and result["answer"] == result["video_url"]
    served = client.get(result["video_url"])
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert "loupe-video-" not in done.text and "edited.mp4" in result["steps"][-1]["value"]
    edited_path = client.engine.run(result["id"]).video.edited.path
    written, source = probe(edited_path), probe(DATA / "megamind.mp4")
    assert (written.frame_count, written.width, written.fps) == (source.frame_count, source.width, source.fps)
    assert served.content == Path(edited_path).read_bytes()
    ranged = client.get(result["video_url"], headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100   # a player can seek


def test_a_rejected_video_edit_writes_nothing(models, make_client):
    client = make_client()
    paused = client.post("/v1/ask", data={"query": "Blur every face", "require_approval": "true", "fps": "2"},
                         files={"image": clip("megamind.mp4")}).json()
    result = client.post(paused["reject_url"]).json()
    assert result["status"] == "rejected" and result["video_url"] is None
    assert client.get(f"/v1/results/{paused['id']}/video.mp4").status_code == 404


def test_a_video_run_past_its_limit_stops_between_frames_batches(models, make_client, monkeypatch):
    """A LOC_FRAMES step over many frames sees the run's cancellation between batches: the run ends after a
    few of its 15 batches, not once the whole step is done (the worker is free again)."""
    from loupe.tools.loc import Loc

    batches = []
    real = Loc.execute_batch
    monkeypatch.setattr(Loc, "execute_batch", lambda self, calls: batches.append(len(calls)) or real(self, calls))
    client = make_client(request_timeout_s=0.5)
    response = client.post("/v1/ask", data={"query": "How many people walk past?", "fps": "10"},
                           files={"image": clip("pedestrians.mp4")})
    assert response.status_code == 504, response.text
    run = client.engine.run(response.json()["id"])
    for _ in range(600):
        if run.done:
            break
        time.sleep(0.05)
    assert run.status == "timed_out" and client.engine.running == 0
    time.sleep(1.0)   # a step that ignored the cancellation would go on calling LOC meanwhile
    assert 0 < len(batches) < 60 / 4


def test_an_uploaded_video_is_kept_no_longer_than_its_run(models, make_client):
    from loupe.agent.service.videos import UPLOAD_PREFIX

    client = make_client()
    result = client.post("/v1/ask", data={"query": "When does the first person appear?", "fps": "1"},
                         files={"image": clip("pedestrians_later.mp4")}).json()
    job = client.engine.run(result["id"]).video
    assert result["status"] == "ok" and Path(job.video.path).parent.name.startswith(UPLOAD_PREFIX)
    assert not Path(job.video.path).exists()   # the run is over: its copy of the upload is gone
    page = client.get(result["rationale_url"])
    assert page.status_code == 200 and "Frames" in page.text and "data:image" in page.text


def test_a_video_question_streams_its_steps(models, make_client):
    client = make_client()
    with client.stream("POST", "/v1/ask", data={"query": "How many people walk past?", "fps": "1"},
                       files={"image": clip("pedestrians_later.mp4")},
                       headers={"Accept": "text/event-stream"}) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run" and kinds[-1] == "done" and events[-1]["result"]["status"] == "ok", kinds
    steps = [e["output"] for e in events if e["event"] == "step"]
    assert steps[:3] == ["FRAMES0", "BOX0", "TRACK0"] and steps[-1] == "FINAL_RESULT"
    assert events[-1]["result"]["tracks"] == client.get(f"/v1/results/{events[0]['id']}").json()["tracks"]


def test_a_client_that_disconnects_cancels_its_video_run_between_batches(models, tmp_path, monkeypatch):
    """uvicorn on 127.0.0.1: the client sends a video and goes away; the run stops at its next frames batch
    (a few of its 15), and its upload goes."""
    import socket

    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine
    from loupe.tools.loc import Loc

    batches = []
    real = Loc.execute_batch
    monkeypatch.setattr(Loc, "execute_batch", lambda self, calls: batches.append(len(calls)) or real(self, calls))
    engine = Engine(make_config(tmp_path))
    server = LiveServer(create_app(engine=engine))
    try:
        host, port = server.url.removeprefix("http://").split(":")
        boundary = "loupeboundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\nHow many people walk past?"
                f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"fps\"\r\n\r\n10\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.mp4\"\r\n"
                f"Content-Type: video/mp4\r\n\r\n").encode() + clip("pedestrians.mp4")[1] + \
            f"\r\n--{boundary}--\r\n".encode()
        head = (f"POST /v1/ask HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: multipart/form-data; "
                f"boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(head + body)
            assert until(lambda: len(batches) >= 1, 30)
        assert until(lambda: engine.running == 0 and engine.admission.admitted == 0, 30)
        run = next(iter(engine.runs._runs.values()))
        assert run.status == "cancelled" and not Path(run.video.video.path).exists()
        time.sleep(1.0)   # a step that ignored the cancellation would go on calling LOC meanwhile
        assert len(batches) < 60 / 4
    finally:
        server.stop()
        engine.close()
