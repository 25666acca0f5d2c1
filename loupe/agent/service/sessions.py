"""Conversations over HTTP: ``POST /v1/ask`` with a ``session`` field runs a turn of that session
(``loupe.agent.chat.conversation``), with the same events, limits, approval and result as any ask, plus the
session's fields (``session``, ``turn``, ``resolved_query``, ``references``, ``image_key``, and ``said``: the
text answer, also when the turn's answer is an image: 'back to photo 1' after an undo).

``session``: an id the server does not know starts a session under it (the request's ``image``, and
``right`` for two photos, are its photos); ``new`` starts one under an id the server makes; a known id goes
on, its current image used when no image is sent (an image sent joins the session as its current photo).

Routes: ``GET /v1/sessions`` (the sessions kept), ``GET /v1/sessions/{id}`` (its turns and images),
``DELETE /v1/sessions/{id}``, ``GET /v1/sessions/{id}/images/{key}.png`` (an image of the session by its
content key). A session idle for ``result_ttl_s`` expires; at most ``MAX_SESSIONS`` are kept (the longest
idle goes first). Sessions live in ``sessions.sqlite`` beside the program cache (one LangGraph thread each),
their images once each by content hash in ``session-images/``.
"""

from __future__ import annotations

import asyncio
from functools import partial
import re
import threading
import time
import uuid
import weakref

from fastapi import FastAPI
from fastapi.responses import Response

from loupe.agent.chat.conversation import Conversation
from loupe.agent.chat.images import ContentStore
from loupe.agent.chat.store import SessionStore
from loupe.agent.service.limits import ServiceError
from loupe.agent.service.results import ask_result, png_bytes, public_event

MAX_SESSIONS = 200
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_guard = threading.Lock()


class Sessions:
    """The service's sessions over ``engine`` (``loupe.agent.service.engine.Engine``)."""

    def __init__(self, engine):
        config = engine.config
        root = config.cache_path.parent if config.cache_path else config.settings.cache_root()
        self.engine, self.ttl_s = engine, config.result_ttl_s
        self.store = SessionStore(root / "sessions.sqlite")
        self.images = ContentStore(root / "session-images")
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # ---- turns --------------------------------------------------------------------------------------

    def submit(self, session: str, image, query: str, right, mode: str, llm: str | None, require_approval: bool,
               client: str):
        """Admit a turn of ``session`` like an ask (same checks, 422/429/503) and start it; returns the run."""
        session = uuid.uuid4().hex if session == "new" else session
        if not _ID.fullmatch(session):
            raise ServiceError(422, f"a session id is 1 to 64 letters, digits, '-' or '_'; got {session[:80]!r}")
        self.sweep()
        known = self.store.load(session) is not None
        if not known and image is None:
            raise ServiceError(404, f"no session {session} (unknown, or it expired); send an image to start it")
        if not known and len(self.store.ids()) >= MAX_SESSIONS:
            raise ServiceError(503, f"the server keeps {MAX_SESSIONS} sessions already; delete one or wait",
                               "max_sessions", MAX_SESSIONS, retry_after_s=60)
        return self.engine.submit_ask(image, query, right, mode, llm, require_approval, client,
                                      work=partial(self._turn, session))

    def _turn(self, session: str, run, agent, image, right) -> None:
        """On a worker: one turn of ``session`` (one at a time per session), settled as the run's result."""
        from loupe.agent.api import Answer

        # a turn that fails or is cancelled still says which conversation it belonged to
        run.context = {"session": session, "session_url": f"/v1/sessions/{session}"}
        with self._lock(session):
            state = self.store.load(session)
            if state is None:
                conversation = Conversation.start(agent, self.store, self.images,
                                                  [p for p in (image, right) if p is not None], session)
            else:
                conversation = Conversation(agent, self.store, self.images, session, state)
                for photo in (image, right):
                    if photo is not None:
                        conversation.add_photo(photo)
            turn = conversation.turn(run.query, on_event=lambda event: run.publish(public_event(run, event)),
                                     run_id=run.id, mode=run.mode)
        answer = turn.answer_object or Answer(turn.query, run.mode, turn.status, turn.answer, turn.image,
                                              program=turn.program, reason=turn.reason)
        run.execution, run.saycan = answer.execution, answer.saycan
        run.image = turn.image if turn.image is not None else None
        if answer.execution is not None and answer.execution.image is not None:
            run.image = answer.execution.image
        result = {**ask_result(run, answer), **run.context, "turn": turn.number, "resolved_query": turn.query,
                  "references": list(turn.references), "image_key": turn.image_key, "said": turn.answer}
        self.engine._settle(run, turn.status, result)

    # ---- keeping ------------------------------------------------------------------------------------

    def describe(self, session: str, state: dict | None = None) -> dict:
        state = state if state is not None else self._state(session)
        idle = time.time() - state.get("used", 0.0)
        images = [{**entry, "url": f"/v1/sessions/{session}/images/{entry['key']}.png",
                   "current": index == state["current"]} for index, entry in enumerate(state["images"])]
        return {"id": session, "turns": state.get("count", 0), "images": images, "created": state.get("created"),
                "used": state.get("used"), "expires_in_s": round(max(0.0, self.ttl_s - idle), 1),
                "program": state.get("program", "")}

    def history(self, session: str) -> dict:
        state = self._state(session)
        return {**self.describe(session, state), "history": state.get("turns", [])}

    def delete(self, session: str) -> None:
        """Drop the session and the images no other session holds."""
        with self._lock(session):
            state = self._state(session)
            self.store.delete(session)
        kept = {e["key"] for other in self.store.ids() for e in (self.store.load(other) or {}).get("images", [])}
        self.images.discard({e["key"] for e in state["images"]} - kept)
        with self._guard:
            self._locks.pop(session, None)

    def sweep(self) -> None:
        """Delete the sessions idle for longer than ``ttl_s``."""
        now = time.time()
        for session in self.store.ids():
            state = self.store.load(session)
            if state is not None and now - state.get("used", now) > self.ttl_s:
                self.delete(session)

    def image(self, session: str, key: str):
        if key not in {e["key"] for e in self._state(session)["images"]}:
            raise ServiceError(404, f"session {session} has no image {key[:16]}")
        return self.images.get(key)

    def _state(self, session: str) -> dict:
        state = self.store.load(session)
        if state is None:
            raise ServiceError(404, f"no session {session} (unknown, or it expired)")
        return state

    def _lock(self, session: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(session, threading.Lock())


_of_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sessions_of(engine) -> Sessions:
    """The one ``Sessions`` of ``engine``: HTTP's ``/v1/ask`` and MCP's ``ask`` share it (and its per-session
    locks), so a conversation goes on from either."""
    with _guard:
        if engine not in _of_engine:
            _of_engine[engine] = Sessions(engine)
        return _of_engine[engine]


def add_session_routes(app: FastAPI, engine) -> Sessions:
    """The ``/v1/sessions`` routes; returns the ``Sessions`` that ``/v1/ask`` hands session turns to."""
    sessions = sessions_of(engine)

    @app.get("/v1/sessions")
    async def list_sessions():
        def described():
            sessions.sweep()
            return {"sessions": [sessions.describe(s) for s in sessions.store.ids()]}

        return await asyncio.to_thread(described)

    @app.get("/v1/sessions/{session}")
    async def session_history(session: str):
        return await asyncio.to_thread(sessions.history, session)

    @app.delete("/v1/sessions/{session}")
    async def delete_session(session: str):
        await asyncio.to_thread(sessions.delete, session)
        return {"deleted": session}

    @app.get("/v1/sessions/{session}/images/{key}.png")
    async def session_image(session: str, key: str):
        image = await asyncio.to_thread(sessions.image, session, key)
        return Response(await asyncio.to_thread(png_bytes, image), media_type="image/png")

    return sessions
