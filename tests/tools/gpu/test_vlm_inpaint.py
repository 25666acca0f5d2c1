"""VQA through an OpenAI-compatible multimodal API (a loopback server started here) and REPLACE with a
tiny random Stable Diffusion inpainting pipeline. Code paths, not answer or image quality."""

import base64
import http.server
import io
import json
import threading

import numpy as np
import pytest
from PIL import Image as PILImage

from programs.values import Obj, Objects
from tools.gpu.inpaint import SdInpainter, dilated, working_size
from tools.gpu.vlm import VlmVqa
import gpu_tiny


@pytest.fixture
def chat_server():
    """A loopback /v1/chat/completions that records requests and answers 'Red.'."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": "Red."}}],
                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    server.shutdown()


def test_vlm_sends_the_image_as_a_data_url(chat_server, wide_image):
    url, seen = chat_server
    backend = VlmVqa(gpu_tiny.context_with(vlm__base_url=url, vlm__model="llava", vlm__api_key="k"))
    answers = backend.run_batch([{"image": wide_image, "question": "What color?"},
                                 {"image": wide_image, "question": ""}])
    assert answers[0] == "Red" and isinstance(answers[1], Exception)
    path, body = seen[0]
    assert path == "/v1/chat/completions" and body["model"] == "llava"
    content = body["messages"][1]["content"]
    image_url = next(p["image_url"]["url"] for p in content if p["type"] == "image_url")
    assert image_url.startswith("data:image/png;base64,")
    decoded = PILImage.open(io.BytesIO(base64.b64decode(image_url.split(",", 1)[1])))
    assert decoded.size == (96, 48) and np.array_equal(np.asarray(decoded.convert("RGB")), wide_image.pixels)


def test_vlm_unreachable_endpoint_names_the_settings(wide_image):
    backend = VlmVqa(gpu_tiny.context_with(vlm__base_url="http://127.0.0.1:9/v1", vlm__timeout=2))
    backend._client = None
    result = backend.run_batch([{"image": wide_image, "question": "What?"}])[0]
    assert "LOUPE_VLM_BASE_URL" in str(result)


def test_mask_helpers():
    mask = np.zeros((20, 30), bool)
    mask[10, 10] = True
    assert dilated(mask, 2).sum() > 1 and dilated(mask, 2)[10, 12] and not dilated(mask, 2)[10, 14]
    assert working_size(96, 48, 512) == (512, 256) and working_size(100, 33, 64) == (64, 24)


@pytest.fixture(scope="module")
def sd_dir(tmp_path_factory):
    return gpu_tiny.save_sd_inpaint(tmp_path_factory.mktemp("sd"))


def test_inpainting_changes_only_near_the_objects_and_is_seeded(sd_dir, wide_image):
    backend = SdInpainter(gpu_tiny.context_with(inpaint__model=str(sd_dir), inpaint__steps=2, inpaint__size=32))
    objects = Objects((Obj((50, 8, 90, 40), "thing"),), wide_image.size)
    first = backend.run(image=wide_image, object=objects, prompt="a teapot")
    again = backend.run(image=wide_image, object=objects, prompt="a teapot")
    assert first.size == wide_image.size and first == again          # same seed, same image
    changed = (first.pixels != wide_image.pixels).any(axis=2)
    assert changed[8:40, 50:90].any()
    assert not changed[:, :40].any()                                 # far from the (dilated, feathered) region
    assert wide_image.pixels[20, 60].tolist() == [220, 200, 30]      # the input was not modified
    assert backend.run(image=wide_image, object=Objects.empty(wide_image.size), prompt="x") is wide_image
