"""Open questions with a multimodal model configured (``--vlm``): the embedded ranking planner sends them to
VQA (LOC + CROP + VQA for a question about one thing) instead of refusing them, and the model at a server on
127.0.0.1 gets the crop. Without one, the same question is refused with the way to configure one.
Needs `loupe models pull` (skips otherwise)."""

import base64
import io

import pytest
from PIL import Image as PILImage

from chat_script import PHOTOS, needs_lite
from openai_server import chat, server  # noqa: F401  (server is a fixture)
from loupe.tools.settings import Settings

pytestmark = needs_lite


def _embedded() -> bool:
    from loupe.agent.llm.embedded import gguf_path

    return gguf_path().is_file()


@pytest.fixture
def received(server):
    """The images the fake model server was sent, as (question, size); it answers from what was asked."""
    seen = []

    def reply(body):
        user = [m for m in body["messages"] if m["role"] == "user"][-1]
        parts = {p["type"]: p for p in user["content"]}
        data = base64.b64decode(parts["image_url"]["image_url"]["url"].split(",", 1)[1])
        seen.append((parts["text"]["text"], PILImage.open(io.BytesIO(data)).size))
        return chat("a beagle" if "breed" in parts["text"]["text"] else "a street")

    server.route("/chat/completions", reply)
    return seen


@pytest.mark.skipif(not _embedded(), reason="models not installed; run `loupe models pull`")
def test_an_open_question_goes_to_the_configured_model(server, received):
    from loupe.agent.api import Agent
    from loupe.programs.images import load_image

    photo = load_image(PHOTOS / "dog.jpg")
    with Agent(use_cache=False, settings=Settings.from_env()) as agent:
        refused = agent.ask(photo, "what breed is the dog?")
    assert refused.status == "unsupported" and "--vlm ollama:llava" in refused.reason and not received
    with Agent(use_cache=False, settings=Settings.from_env(vlm=server.url)) as agent:
        answer = agent.ask(photo, "what breed is the dog?")
    assert (answer.status, answer.text) == ("ok", "a beagle")
    modules = [s["module"] for s in answer.steps]
    assert modules[:3] == ["LOC", "CROP", "VQA"], answer.program
    question, size = received[0]
    assert question == "what breed is the dog?"
    assert size[0] < photo.width and size[1] < photo.height   # the crop of the dog, not the whole photo
