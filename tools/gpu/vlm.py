"""VQA with a multimodal LLM behind an OpenAI-compatible chat API: GPT-4o-class models, or LLaVA /
BakLLaVA served by Ollama (``http://localhost:11434/v1``). The image goes as a PNG data URL.

Options: ``vlm.base_url`` (env ``LOUPE_VLM_BASE_URL``; default the OpenAI API), ``vlm.model`` (default
``gpt-4o-mini``), ``vlm.api_key`` (env ``LOUPE_VLM_API_KEY``, else ``OPENAI_API_KEY``; Ollama takes any),
``vlm.timeout`` (60 s), ``vlm.workers`` (4 concurrent requests per batch). ``agent.llm`` has no image
input, so this uses the ``openai`` SDK directly. Opt-in only (low priority): it sends images off the machine.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
import io

from programs.errors import ToolError, ToolUnavailable
from programs.values import Image
from tools.gpu.base import GpuBackend

SYSTEM = "Answer the question about the image with a short phrase (one to three words), no sentence."


def ready(settings, spec) -> None:
    """Ready when an endpoint or a key is configured (asks no server); else raises ToolUnavailable."""
    if not (settings.option("vlm.base_url") or settings.option("vlm.api_key") or settings.openai_api_key):
        raise ToolUnavailable("set LOUPE_VLM_BASE_URL (e.g. http://localhost:11434/v1 for Ollama with "
                              "`ollama pull llava`) or OPENAI_API_KEY, and LOUPE_VLM_MODEL")


def data_url(image: Image) -> str:
    """The image as ``data:image/png;base64,...``."""
    buffer = io.BytesIO()
    image.to_pil().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class VlmVqa(GpuBackend):
    option_name = "vlm.model"
    default_model = "gpt-4o-mini"

    def __init__(self, context):
        super().__init__(context)
        self._client = None

    def client(self):
        if self._client is None:
            from openai import OpenAI

            key = self.option("vlm.api_key") or self.settings.openai_api_key or "not-needed"
            self._client = OpenAI(base_url=self.option("vlm.base_url") or None, api_key=key,
                                  timeout=float(self.option("vlm.timeout", 60)), max_retries=2)
        return self._client

    def run_batch(self, calls):
        def answer(call):
            try:
                return self.ask(call["image"], call["question"])
            except Exception as error:
                return error

        with ThreadPoolExecutor(max_workers=max(1, int(self.option("vlm.workers", 4)))) as pool:
            return list(pool.map(answer, calls))

    def ask(self, image: Image, question: str) -> str:
        import openai

        if not isinstance(question, str) or not question.strip():
            raise ToolError(f"VQA needs a question, e.g. question='What color is the bus?'; got {question!r}")
        content = [{"type": "text", "text": question.strip()},
                   {"type": "image_url", "image_url": {"url": data_url(image)}}]
        try:
            reply = self.client().chat.completions.create(
                model=self.model_id, max_tokens=32, temperature=0,
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}])
        except (openai.APIConnectionError, openai.AuthenticationError, openai.NotFoundError) as error:
            raise ToolUnavailable(f"VQA (vlm): the endpoint {self.option('vlm.base_url') or 'api.openai.com'} "
                                  f"with model {self.model_id!r} failed: {error}; check LOUPE_VLM_BASE_URL, "
                                  "LOUPE_VLM_MODEL and the API key") from error
        text = (reply.choices[0].message.content or "").strip().rstrip(".")
        if not text:
            raise ToolError("VQA (vlm): the model gave an empty answer")
        return text
