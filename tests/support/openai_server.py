"""A real OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, for tests.

Replies come from per-path queues (``enqueue``), then a per-path default (``always``) or a function of
the request body (``route``). Every request is recorded. The server stops itself after 60 s.
Faults: a reply may carry ``headers`` (``Retry-After``), or be ``HANG`` (read the request, never answer)
or ``RESET`` (drop the connection without a reply).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HANG, RESET = "<never answer>", "<reset the connection>"
MODELS = {"object": "list", "data": [{"id": "served-model", "object": "model", "created": 0, "owned_by": "t"}]}


def chat(text, top=None, prompt_tokens=11, completion_tokens=3):
    logprobs = None
    if top is not None:
        first = top[0][0] if top else "1"
        logprobs = {"content": [{"token": first, "logprob": 0.0, "bytes": None,
                                 "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top]}]}
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "served-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": logprobs}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def echo(*token_lists):
    """A /v1/completions echo reply; each item is a list of (token, logprob) covering prompt + continuation."""
    choices = []
    for index, pairs in enumerate(token_lists):
        offsets, at = [], 0
        for token, _ in pairs:
            offsets.append(at)
            at += len(token)
        choices.append({"index": index, "text": "".join(t for t, _ in pairs), "finish_reason": "length",
                        "logprobs": {"tokens": [t for t, _ in pairs], "token_logprobs": [lp for _, lp in pairs],
                                     "text_offset": offsets, "top_logprobs": None}})
    return {"id": "e", "object": "text_completion", "created": 0, "model": "served-model", "choices": choices,
            "usage": {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 12}}


def error_body(message):
    return {"error": {"message": message, "type": "server_error", "code": None}}


class ScriptedServer(ThreadingHTTPServer):
    """Replies from per-path queues (then the path's default); records every request."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.queues: dict[str, deque] = defaultdict(deque)
        self.defaults = {"/v1/models": (200, MODELS, 0.0, {}), "/v1/chat/completions": (200, chat("hello"), 0.0, {})}
        self.stopping = threading.Event()  # set at shutdown: a HANG reply then lets its connection go
        self.requests: list[tuple[str, dict]] = []
        self.routes: dict = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def enqueue(self, path: str, body, status: int = 200, delay: float = 0.0, headers=None) -> None:
        self.queues["/v1" + path].append((status, body, delay, headers or {}))

    def always(self, path: str, body, status: int = 200, delay: float = 0.0, headers=None) -> None:
        self.defaults["/v1" + path] = (status, body, delay, headers or {})

    def route(self, path: str, reply_for) -> None:
        """Answer ``path`` with ``reply_for(request_body)`` (after any queued replies)."""
        self.routes["/v1" + path] = reply_for

    def posted(self, path: str) -> list[dict]:
        return [body for p, body in self.requests if p == "/v1" + path]


class Handler(BaseHTTPRequestHandler):
    def _reply(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        self.server.requests.append((self.path, body))
        queue = self.server.queues[self.path]
        if queue:
            status, reply, delay, headers = queue.popleft()
        elif self.path in self.server.routes:
            status, reply, delay, headers = 200, self.server.routes[self.path](body), 0.0, {}
        else:
            status, reply, delay, headers = self.server.defaults.get(self.path, (404, {"error": {
                "message": "no such route", "type": "invalid_request_error"}}, 0.0, {}))
        time.sleep(delay)
        if reply == HANG:
            self.server.stopping.wait(60)
            return
        if reply == RESET:  # SO_LINGER 0: close() sends a TCP RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        data = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(reply, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    do_GET = do_POST = _reply

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stopper = threading.Timer(60, srv.shutdown)  # the server stops itself even if a test hangs
    stopper.start()
    yield srv
    stopper.cancel()
    srv.stopping.set()
    srv.shutdown()
    srv.server_close()




@pytest.fixture
def no_llm_env(monkeypatch):
    """No LLM settings from the environment the tests run in (keys, base URLs, default models)."""
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LOUPE_LLM", "LOUPE_LLM_MODEL", "OLLAMA_HOST"):
        monkeypatch.delenv(key, raising=False)
