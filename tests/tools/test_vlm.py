"""The multimodal-model backend of VQA and CAPTION (tools.vlm) against a real OpenAI-compatible server on
127.0.0.1 (tests/support/openai_server.py) that checks the image arrives: what is sent (the image base64,
the question), the spec forms, retries of transient failures, and the errors a person can act on."""

import base64
import io

import numpy as np
import pytest
from PIL import Image as PILImage

from openai_server import chat, error_body, server  # noqa: F401  (server is a fixture)
from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.programs.values import Image
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
from loupe.tools.vlm import NAME, VlmCaption, VlmVqa, endpoint


def sent_image(body) -> PILImage.Image:
    """The image of a chat request's user message (a PNG data URL), decoded."""
    user = [m for m in body["messages"] if m["role"] == "user"][-1]
    url = next(p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url")
    assert url.startswith("data:image/png;base64,")
    return PILImage.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def question_of(body) -> str:
    user = [m for m in body["messages"] if m["role"] == "user"][-1]
    return next(p["text"] for p in user["content"] if p["type"] == "text")


@pytest.fixture
def photo():
    pixels = np.zeros((30, 50, 3), np.uint8)
    pixels[:, :25] = (200, 30, 30)
    return Image(pixels, "photo")


class Context:
    def __init__(self, settings):
        self.settings = settings


def backend(cls, server, **options):
    return cls(Context(Settings(vlm=server.url, options={"vlm.model": "llava", **options})))


def test_vqa_sends_the_image_and_the_question(server, photo):
    server.always("/chat/completions", chat("Red."))
    assert backend(VlmVqa, server).run(image=photo, question="What colour is the left half?") == "Red"
    body = server.posted("/chat/completions")[0]
    assert body["model"] == "llava" and question_of(body) == "What colour is the left half?"
    received = np.asarray(sent_image(body).convert("RGB"))
    assert np.array_equal(received, photo.pixels)   # the pixels themselves arrived
    assert body["messages"][0]["role"] == "system" and body["temperature"] == 0


def test_caption_sends_the_image(server, photo):
    server.always("/chat/completions", chat("A red and black rectangle."))
    assert backend(VlmCaption, server).run(image=photo) == "A red and black rectangle."
    assert sent_image(server.posted("/chat/completions")[0]).size == (50, 30)


def test_the_model_is_the_servers_first_when_none_is_named(server, photo):
    server.always("/chat/completions", chat("yes"))
    vqa = VlmVqa(Context(Settings(vlm=server.url)))
    assert vqa.run(image=photo, question="Is it red?") == "yes"
    assert server.posted("/chat/completions")[0]["model"] == "served-model"


def test_transient_failures_are_retried(server, photo):
    server.enqueue("/chat/completions", error_body("busy"), status=503, headers={"Retry-After": "0"})
    server.enqueue("/chat/completions", error_body("slow down"), status=429, headers={"Retry-After": "0"})
    server.always("/chat/completions", chat("Red"))
    assert backend(VlmVqa, server).run(image=photo, question="What colour?") == "Red"
    assert len(server.posted("/chat/completions")) == 3


def test_errors_say_what_to_fix(server, photo):
    server.always("/chat/completions", error_body("model 'llava' not found, try pulling it first"), status=404)
    with pytest.raises(ToolUnavailable, match="--vlm / LOUPE_VLM"):
        backend(VlmVqa, server).run(image=photo, question="What colour?")
    server.always("/chat/completions", chat(""))
    with pytest.raises(ToolError, match="empty answer"):
        backend(VlmVqa, server).run(image=photo, question="What colour?")
    server.always("/chat/completions", error_body("broken"), status=500)
    with pytest.raises(ToolError, match="failed"):
        backend(VlmVqa, server, **{"vlm.max_attempts": 1}).run(image=photo, question="What colour?")
    with pytest.raises(ToolError, match="needs a question"):
        backend(VlmVqa, server).run(image=photo, question=" ")


def test_nothing_listening_is_unavailable(photo):
    vqa = VlmVqa(Context(Settings(vlm="http://127.0.0.1:9/v1", options={"vlm.model": "m", "vlm.max_attempts": 1,
                                                                         "vlm.timeout": 2})))
    with pytest.raises(ToolUnavailable, match="is the server running"):
        vqa.run(image=photo, question="What?")


@pytest.mark.parametrize("spec, settings, expected", [
    ("ollama:llava", {}, ("http://localhost:11434/v1", "llava", "ollama")),
    ("ollama:moondream", {"ollama_host": "gpu-box:11434"}, ("http://gpu-box:11434/v1", "moondream", "ollama")),
    ("openai:gpt-4o", {"openai_api_key": "k"}, (None, "gpt-4o", "k")),
    ("http://127.0.0.1:8080/v1", {}, ("http://127.0.0.1:8080/v1", "", "not-needed")),
])
def test_spec_forms(spec, settings, expected):
    assert endpoint(Settings(vlm=spec, **settings)) == expected


@pytest.mark.parametrize("spec, message", [("openai:gpt-4o", "OPENAI_API_KEY"), ("llava", "unknown --vlm")])
def test_bad_specs_are_explained(spec, message):
    with pytest.raises(ToolUnavailable, match=message):
        endpoint(Settings(vlm=spec))


def test_a_configured_vlm_answers_vqa_and_caption_and_only_then():
    plain = default_registry(Settings(), plugins=False).context
    for tool in ("VQA", "CAPTION"):
        spec = next(s for s in plain.backend_specs(tool) if s.name == NAME)
        assert spec.availability(plain.settings) == (False, "no multimodal model configured; pass --vlm "
                                                            "ollama:llava (or set LOUPE_VLM)")
    configured = default_registry(Settings(vlm="ollama:llava"), plugins=False)
    for tool in ("VQA", "CAPTION"):
        assert configured.context.choose_backend(tool).name == NAME   # above every tier once configured
    assert configured.tool("VQA").affordance({"question": "what breed is the dog?"}) == 1.0
