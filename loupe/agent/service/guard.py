"""The HTTP app's guards, in front of every route (the API, the page, its files, /docs and /mcp):

1. Host allowlist (DNS rebinding): starlette's ``TrustedHostMiddleware`` matches the Host header against
   ``ServiceConfig.trusted_hosts`` (the loopback names by default); its refusal is answered here in the
   JSON error shape (403). An ``Origin`` header, when a browser sends one, must name an allowed host too
   (a page of another origin cannot drive the API, even by a "simple" cross-origin form POST).
2. The bearer token: when ``LOUPE_API_TOKEN`` (``ServiceConfig.token``) is set, every route needs
   ``Authorization: Bearer TOKEN``; a browser opens the page once as ``/?token=TOKEN``, which sets an
   HttpOnly same-site cookie so that the page's own requests carry it (the page then removes the token
   from its address with ``history.replaceState``). Tokens are compared in constant time.
3. The body cap: a declared ``Content-Length`` over ``max_body_bytes`` is refused before anything is read;
   a body without one (chunked) is counted as it arrives and refused (413) as soon as it passes the cap.
"""

from __future__ import annotations

import hmac
import json

from starlette.middleware.trustedhost import TrustedHostMiddleware

COOKIE = "loupe_token"
_HOST_OK = "loupe.host_ok"


def _json(send, status: int, body: dict, headers=()):
    async def respond():
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                                *headers]})
        await send({"type": "http.response.body", "body": raw})
    return respond()


class Guard:
    """ASGI middleware: 403 for a Host or Origin not allowed, 401 without the token (when one is set),
    413 for a body over ``max_body_bytes`` (declared or counted)."""

    def __init__(self, app, token: str | None, max_body_bytes: int, allowed_hosts=("*",)):
        self.app, self.token, self.max_body_bytes = app, token, max_body_bytes
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)

        async def host_ok(scope, receive, send):
            scope[_HOST_OK] = True
            await self._guarded(scope, receive, send)
        self.hosts = TrustedHostMiddleware(host_ok, allowed_hosts=list(self.allowed_hosts), www_redirect=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = []

        async def send_or_hold(message):
            if scope.get(_HOST_OK):
                await send(message)
            else:  # TrustedHostMiddleware's own (plain-text) refusal: answered below in the JSON shape
                refusal.append(message)
        await self.hosts(scope, receive, send_or_hold)
        if not scope.get(_HOST_OK):
            host = _headers(scope).get("host", "")
            await _json(send, 403, {"error": f"the Host header {host[:100]!r} is not one this server answers to; "
                                             f"allowed: {', '.join(self.allowed_hosts)} (loupe serve --allowed-host)",
                                    "limit": "allowed_hosts", "value": list(self.allowed_hosts)})

    async def _guarded(self, scope, receive, send):
        headers = _headers(scope)
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin):
            return await _json(send, 403, {"error": f"requests from the origin {origin[:100]!r} are not allowed "
                                                    f"(allowed hosts: {', '.join(self.allowed_hosts)})",
                                           "limit": "allowed_hosts", "value": list(self.allowed_hosts)})
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
            return await _json(send, 413, self._too_large(f"the request body ({length} bytes)"))
        received, over = 0, False

        async def counted_receive():
            """The body as it arrives, counted; past the cap the app sees the client gone (and stops)."""
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def checked_send(message):
            nonlocal started
            if over:  # the app's answer to a body it saw cut off is replaced by the 413 below
                return
            if message["type"] == "http.response.start":
                started = True
                if set_cookie is not None:
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", set_cookie),
                                                      (b"referrer-policy", b"no-referrer")]}
            await send(message)
        await self.app(scope, counted_receive, checked_send)
        if over and not started:
            await _json(send, 413, self._too_large(f"the request body (more than {self.max_body_bytes} bytes "
                                                   "so far)"), [(b"connection", b"close")])

    def _too_large(self, what: str) -> dict:
        return {"error": f"{what} is more than the limit of {self.max_body_bytes} bytes",
                "limit": "max_upload_bytes", "value": self.max_body_bytes}

    def _origin_ok(self, origin: str) -> bool:
        """An Origin is allowed when it is http(s) on an allowed host (any port); ``null`` never is."""
        from urllib.parse import urlsplit

        if "*" in self.allowed_hosts:
            return True
        try:
            parts = urlsplit(origin)
            host = parts.hostname or ""
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not host:
            return False
        host = host.lower()
        names = {host, f"[{host}]"}
        return any(name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]))
                   for name in names for pattern in self.allowed_hosts)


def _headers(scope) -> dict:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


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
