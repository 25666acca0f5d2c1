"""Limits and safety of the HTTP app: uploads (bytes, pixels, not an image), the token, --allow-dir,
the bounded queue (503 + Retry-After) and the per-request time limit (504)."""

import io
import time

import numpy as np
from PIL import Image as PILImage
import pytest

from service_support import PHOTOS, photo, registry_with_slow_loc
from loupe.tools.settings import Settings

HORSES = "How many bicycles?"


def _png(width, height) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(np.zeros((height, width, 3), np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_empty_upload_is_refused_with_422(make_client):
    response = make_client().post("/v1/ask", data={"query": HORSES}, files={"image": ("empty.jpg", b"", "image/jpeg")})
    assert response.status_code == 422 and "0 bytes" in response.json()["error"]


def test_a_file_that_is_no_image_is_refused_with_422(make_client):
    response = make_client().post("/v1/ask", data={"query": HORSES},
                                  files={"image": ("notes.jpg", b"these are words, not pixels", "image/jpeg")})
    assert response.status_code == 422 and "not an image" in response.json()["error"]
    assert "notes.jpg" in response.json()["error"]


def test_too_many_pixels_is_refused_with_413_naming_the_limit(make_client):
    client = make_client(max_megapixels=1.0)
    response = client.post("/v1/ask", data={"query": HORSES}, files={"image": ("big.png", _png(1500, 1000), "image/png")})
    assert response.status_code == 413
    assert response.json()["limit"] == "max_megapixels" and response.json()["value"] == 1.0
    assert "megapixel limit" in response.json()["error"]


def test_too_many_bytes_is_refused_with_413_naming_the_limit(make_client):
    client = make_client(max_upload_bytes=10_000)
    response = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")})
    assert response.status_code == 413 and response.json()["limit"] == "max_upload_bytes"
    assert response.json()["value"] == 10_000


def test_a_missing_image_and_an_unknown_llm_or_mode_are_422(make_client):
    client = make_client()
    assert client.post("/v1/ask", data={"query": HORSES}).status_code == 422
    unknown = client.post("/v1/ask", data={"query": HORSES, "llm": "local:/etc/passwd"},
                          files={"image": photo("dog.jpg")})
    assert unknown.status_code == 422 and "this server offers" in unknown.json()["error"]
    assert client.post("/v1/ask", data={"query": HORSES, "mode": "magic"},
                       files={"image": photo("dog.jpg")}).status_code == 422


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2VjcmV0"}])
def test_every_route_needs_the_token_when_one_is_set(make_client, headers):
    client = make_client(token="s3cret")
    for method, path in [("GET", "/"), ("GET", "/v1/health"), ("GET", "/v1/tools"), ("POST", "/v1/check"),
                         ("POST", "/v1/ask"), ("GET", "/docs"), ("GET", "/ui/app.js"), ("POST", "/mcp")]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert "API token" in response.json()["error"] and response.headers["www-authenticate"] == "Bearer"


def test_the_right_token_opens_the_api_and_the_page(make_client):
    client = make_client(token="s3cret")
    assert client.get("/v1/health", headers={"Authorization": "Bearer s3cret"}).json()["ok"]
    page = client.get("/?token=s3cret")
    assert page.status_code == 200 and "loupe_token=s3cret" in page.headers["set-cookie"]
    assert client.get("/v1/health").status_code == 200  # the cookie the page set
    client.cookies.clear()
    assert client.post("/v1/ask?token=s3cret", data={"query": HORSES}).status_code == 401  # query: page loads only


def test_paths_are_read_only_under_allow_dir(make_client, tmp_path):
    outside = make_client(allow_dirs=(tmp_path.resolve(),))
    response = outside.post("/v1/ask", data={"query": HORSES, "image_path": str(PHOTOS / "dog.jpg")})
    assert response.status_code == 403 and "outside the folders" in response.json()["error"]
    sneaky = outside.post("/v1/ask", data={"query": HORSES, "image_path": str(tmp_path / ".." / "x" / "horses.jpg")})
    assert sneaky.status_code == 403
    none = make_client()
    assert none.post("/v1/ask", data={"query": HORSES, "image_path": "/etc/passwd"}).status_code == 403
    inside = make_client(allow_dirs=(PHOTOS.resolve(),))
    ok = inside.post("/v1/ask", data={"query": HORSES, "image_path": str(PHOTOS / "dog.jpg")})
    assert ok.status_code == 200 and ok.json()["answer"] == "1"


def test_a_task_lists_file_names_obey_allow_dir_too(make_client, tmp_path):
    outside = str(PHOTOS / "dog.jpg")
    tasks = f'[{{"task": "object-detection", "id": 0, "dep": [-1], "args": {{"image": "{outside}", "text": "dog"}}}}]'
    response = make_client(allow_dirs=(tmp_path.resolve(),)).post("/v1/run", data={"program": tasks})
    assert response.status_code == 403 and "outside the folders" in response.json()["error"]
    inside = make_client(allow_dirs=(PHOTOS.resolve(),)).post("/v1/run", data={"program": tasks})
    assert inside.status_code == 200 and inside.json()["status"] == "ok"


def test_a_full_queue_answers_503_with_retry_after(make_client):
    import threading

    client = make_client(registry=registry_with_slow_loc(1.5), workers=1, max_queue=0)
    first = {}
    worker = threading.Thread(target=lambda: first.update(r=client.post("/v1/ask", data={"query": HORSES},
                                                                        files={"image": photo("dog.jpg")})))
    worker.start()
    deadline = time.monotonic() + 10
    while client.engine.admission.admitted < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    busy = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")})
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
    assert busy.json()["limit"] == "queue_capacity"
    worker.join(30)
    assert first["r"].status_code == 200
    assert client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")}).status_code == 200


def test_a_request_past_its_time_limit_answers_504(make_client):
    from fakes import SlowLoc
    from loupe.tools.registry import default_registry

    class VerySlowLoc(SlowLoc):
        delay = 3.0

    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(VerySlowLoc)
    client = make_client(registry=registry, request_timeout_s=0.5)
    response = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")})
    assert response.status_code == 504 and response.json()["limit"] == "request_timeout_s"
    run = client.engine.run(response.json()["id"])
    assert run.finished is None or run.status == "timed_out"  # it stops after the step that is running
    deadline = time.monotonic() + 10
    while run.finished is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get(f"/v1/runs/{response.json()['id']}").json()["status"] == "timed_out"


def test_results_expire(make_client):
    client = make_client(result_ttl_s=0.0)
    done = client.post("/v1/ask", data={"query": HORSES}, files={"image": photo("dog.jpg")}).json()
    assert client.get(f"/v1/results/{done['id']}").status_code == 404
