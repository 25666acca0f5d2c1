"""VQA and CAPTION through a multimodal model behind an OpenAI-compatible chat endpoint that accepts images
(Ollama, llama.cpp's server, vLLM, OpenAI): the image (or the crop a program made) goes base64 in the
message with the question. Chosen by ``Settings.vlm`` (``--vlm SPEC``, ``LOUPE_VLM``); docs/vlm.md.

SPEC: ``ollama:MODEL`` (``OLLAMA_HOST``, default http://localhost:11434), ``openai:MODEL`` (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``), or the URL of a server's ``/v1`` (the model: option ``vlm.model``, else the server's
first in ``/v1/models``). Options: ``vlm.timeout`` (seconds one request may take, 60), ``vlm.max_attempts``
(4: the openai SDK retries timeouts, dropped connections, 429 and 5xx with exponential backoff, honouring
Retry-After, as the planner's LLM does), ``vlm.max_tokens`` (64), ``vlm.workers`` (4 requests at once).

When a VLM is configured it wins ``auto`` (priority above every tier) and answers any question
(affordance 1), so the planner sends open questions ('what breed is the dog?', 'what is the person on the
left holding?') to VQA instead of refusing them.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
import io
import threading

from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.programs.values import Image
from loupe.tools.backends import BackendSpec, BatchBackend

NAME = "multimodal"
OLLAMA_URL = "http://localhost:11434/v1"
VQA_SYSTEM = "Answer the question about the image with a short phrase (one to five words), not a sentence."
CAPTION_PROMPT = "Describe this image in one sentence."
INSTALL_HINT = "pip install openai; then --vlm ollama:MODEL (docs/vlm.md)"


def ready(settings, spec) -> None:
    """Ready when a VLM is configured (no server is asked); else ToolUnavailable saying how to set one."""
    if not settings.vlm:
        raise ToolUnavailable("no multimodal model configured; pass --vlm ollama:llava (or set LOUPE_VLM)")
    endpoint(settings)


def affordance(args) -> float:
    """A multimodal model answers any question about an image."""
    return 1.0


def endpoint(settings) -> tuple[str | None, str, str]:
    """``(base_url, model, api_key)`` of ``settings.vlm`` (model '' means: the server's first)."""
    spec = settings.vlm or ""
    scheme, _, rest = spec.partition(":")
    if scheme == "ollama":
        host = settings.ollama_host
        url = ((host if host.startswith("http") else f"http://{host}").rstrip("/") + "/v1") if host else OLLAMA_URL
        return url, rest or str(settings.option("vlm.model", "llava")), "ollama"
    if scheme == "openai":
        if not settings.openai_api_key and not settings.openai_base_url:
            raise ToolUnavailable(f"--vlm {spec} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)")
        return settings.openai_base_url, rest or "gpt-4o-mini", settings.openai_api_key or "not-needed"
    if scheme in ("http", "https"):
        return spec.rstrip("/"), str(settings.option("vlm.model", "")), settings.openai_api_key or "not-needed"
    raise ToolUnavailable(f"unknown --vlm {spec!r}; use ollama:MODEL, openai:MODEL or http://HOST:PORT/v1")


def data_url(image: Image) -> str:
    """The image as ``data:image/png;base64,...``."""
    buffer = io.BytesIO()
    image.to_pil().save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class _ChatVlm(BatchBackend):
    """One client per backend; ``run_batch`` sends the calls concurrently (``vlm.workers``)."""

    def __init__(self, context):
        self.settings = context.settings
        self.base_url, self._model, self._key = endpoint(self.settings)
        self._client = None
        self._lock = threading.Lock()

    def option(self, key: str, default):
        return type(default)(self.settings.option(key, default))

    def client(self):
        with self._lock:
            if self._client is None:
                from openai import OpenAI

                self._client = OpenAI(base_url=self.base_url, api_key=self._key,
                                      timeout=self.option("vlm.timeout", 60.0),
                                      max_retries=max(0, self.option("vlm.max_attempts", 4) - 1))
            return self._client

    @property
    def model(self) -> str:
        if not self._model:
            models = [m.id for m in self._call(lambda c: c.models.list()).data]
            if not models:
                raise ToolUnavailable(f"the VLM server at {self.base_url} lists no models; set LOUPE_VLM_MODEL")
            self._model = models[0]
        return self._model

    def run_batch(self, calls):
        def answer(call):
            try:
                return self.answer(call)
            except Exception as error:   # this call's failure is its own
                return error

        with ThreadPoolExecutor(max_workers=max(1, self.option("vlm.workers", 4))) as pool:
            return list(pool.map(answer, calls))

    def messages(self, call) -> list[dict]:
        raise NotImplementedError

    def answer(self, call) -> str:
        messages = self.messages(call)
        reply = self._call(lambda c: c.chat.completions.create(
            model=self.model, messages=messages, max_tokens=self.option("vlm.max_tokens", 64), temperature=0))
        text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
        if not text:
            raise ToolError(f"{NAME} VLM ({self.model}): the model gave an empty answer")
        return text

    def _call(self, request):
        import openai

        where = f"the VLM {self._model or '(first model)'} at {self.base_url or 'api.openai.com'}"
        try:
            return request(self.client())
        except (openai.APIConnectionError, openai.AuthenticationError, openai.NotFoundError,
                openai.PermissionDeniedError) as error:
            raise ToolUnavailable(f"{where} cannot be used: {error}; check --vlm / LOUPE_VLM (is the server "
                                  "running, the model pulled?)") from error
        except openai.APIError as error:
            raise ToolError(f"{where} failed: {error}") from error


def _user(image: Image, text: str) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": text},
                                        {"type": "image_url", "image_url": {"url": data_url(image)}}]}


class VlmVqa(_ChatVlm):
    def messages(self, call) -> list[dict]:
        question = call.get("question")
        if not isinstance(question, str) or not question.strip():
            raise ToolError(f"VQA needs a question, e.g. question='What is the man holding?'; got {question!r}")
        return [{"role": "system", "content": VQA_SYSTEM}, _user(call["image"], question.strip())]

    def answer(self, call) -> str:
        return super().answer(call).rstrip(".")


class VlmCaption(_ChatVlm):
    def messages(self, call) -> list[dict]:
        return [_user(call["image"], CAPTION_PROMPT)]


SPECS = [BackendSpec(tool=tool, name=NAME, factory=f"loupe.tools.vlm:{factory}", requires=("openai",),
                     install_hint=INSTALL_HINT, ready="loupe.tools.vlm:ready", affordance="loupe.tools.vlm:affordance",
                     priority=100, memory="remote")
         for tool, factory in (("VQA", "VlmVqa"), ("CAPTION", "VlmCaption"))]
