"""The HTTP app's guards: the bearer token on every route, and the request-size cap before parsing.

When ``LOUPE_API_TOKEN`` (``ServiceConfig.token``) is set, every route needs ``Authorization: Bearer
TOKEN``; a browser opens the page once as ``/?token=TOKEN``, which sets an HttpOnly same-site cookie so
that the page's own requests carry it. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import json

COOKIE = "loupe_token"


def _json(send, status: int, body: dict, headers=()):
    async def respond():
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                                *headers]})
        await send({"type": "http.response.body", "body": raw})
    return respond()


class Guard:
    """ASGI middleware: 401 without the token (when one is set), 413 for a body over ``max_body_bytes``."""

    def __init__(self, app, token: str | None, max_body_bytes: int):
        self.app, self.token, self.max_body_bytes = app, token, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        set_cookie = None
        if self.token:
            given, from_query = _token_of(scope, headers)
            if not (given and hmac.compare_digest(given.encode(), self.token.encode())):
                reason = "missing" if not given else "invalid"
                return await _json(send, 401, {"error": f"{reason} API token: send 'Authorization: Bearer TOKEN' "
                                                        "(the server's LOUPE_API_TOKEN)"},
                                   [(b"www-authenticate", b"Bearer")])
            if from_query:
                set_cookie = f"{COOKIE}={given}; HttpOnly; SameSite=Strict; Path=/".encode()
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return await _json(send, 413, {"error": f"the request body ({length} bytes) is more than the limit of "
                                                    f"{self.max_body_bytes} bytes", "limit": "max_upload_bytes",
                                           "value": self.max_body_bytes})
        if set_cookie is None:
            return await self.app(scope, receive, send)

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", set_cookie)]}
            await send(message)
        return await self.app(scope, receive, send_with_cookie)


def _token_of(scope, headers: dict) -> tuple[str, bool]:
    """The token a request carries (header, cookie, or ``?token=`` on a page load) and whether it came
    from the query."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value, False
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if scope.get("method") == "GET" and query.get("token"):
        return query["token"][0], True
    return "", False
