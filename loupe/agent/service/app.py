"""The HTTP app of ``loupe serve``: the API under ``/v1``, the web page at ``/``, MCP at ``/mcp``.

``POST /v1/ask`` and ``POST /v1/run`` answer JSON, or stream Server-Sent Events with
``Accept: text/event-stream`` (plan, check, step ..., answer, done). A run whose edit needs approval
answers 202 (``awaiting_approval``) and goes on with ``POST /v1/runs/{id}/approve?program_sha256=...``
(the approval names the exact run and program it approves) or ``/reject``; a decision for a run that waits
for nothing, or for another program, is 409. An edit needs approval when the client sends
``require_approval=true`` (``/v1/ask``, ``/v1/run``) or the server was started with ``--require-approval``
(``$LOUPE_REQUIRE_APPROVAL``): then every edit on every route waits, whatever the client sends. A request
past its time limit (504), a rejected edit, or a client that goes away before its answer cancels its run.
A ``session`` field makes an ask a turn of a conversation (``loupe.agent.service.sessions``: ``/v1/sessions``).
Every refusal is JSON: ``{"error": ..., "limit": ..., "value": ...}``. OpenAPI docs at ``/docs``.
"""

from __future__ import annotations

import asyncio
from functools import partial
import json
from pathlib import Path

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from loupe.agent.service.config import ServiceConfig
from loupe.agent.service.engine import Engine
from loupe.agent.service.guard import Guard
from loupe.agent.service.limits import ServiceError, image_from_bytes, image_from_path
from loupe.agent.service.results import png_bytes, thumbnail
from loupe.agent.service.runs import Run, settled
from loupe.agent.service.sessions import add_session_routes
from loupe.agent.service.videos import (VideoAsk, check_video_ask, named_video, open_video, upload_to_file,
                                        video_signature, with_fps)

UI = Path(__file__).resolve().parent / "ui"


def create_app(config: ServiceConfig | None = None, engine: Engine | None = None, mcp: bool = True):
    """The ASGI app (FastAPI inside the token / size guard) over ``engine`` (built from ``config``)."""
    config = config or (engine.config if engine else ServiceConfig())
    engine = engine or Engine(config)
    lifespan = None
    if mcp:
        from loupe.agent.service.mcp_server import build_mcp, mcp_lifespan, mcp_security

        server = build_mcp(engine)
        lifespan = mcp_lifespan(server)
    app = FastAPI(title="Loupe", version="0.1.0", lifespan=lifespan,
                  description="Ask questions about photos and edit them with checked visual programs.")
    app.state.engine = engine
    app.state.sessions = add_session_routes(app, engine)
    _routes(app, engine)
    if mcp:  # the MCP endpoint's routes join the app's, so /mcp sits beside /v1 behind the same guard
        app.router.routes.extend(server.streamable_http_app(
            streamable_http_path="/mcp", transport_security=mcp_security(config)).routes)
    app.mount("/ui", StaticFiles(directory=UI), name="ui")
    largest = max(2 * config.max_upload_bytes, config.max_video_upload_bytes)
    return Guard(app, config.token, largest + 1024 * 1024, config.trusted_hosts)


def _routes(app: FastAPI, engine: Engine) -> None:
    config = engine.config

    @app.exception_handler(ServiceError)
    async def refused(request: Request, error: ServiceError):
        headers = {"Retry-After": str(error.retry_after_s)} if error.retry_after_s else None
        return JSONResponse(error.body(), status_code=error.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors())
        return JSONResponse({"error": f"bad request: {problems}"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        """Starlette's and FastAPI's own refusals (unknown route, wrong method, a multipart form past the
        parser's limits) in the same JSON shape as the service's."""
        detail = str(error.detail) if error.detail else "refused"
        if error.status_code == 400:
            refusal = form_refusal(detail)
            return JSONResponse(refusal.body(), status_code=refusal.status)
        return JSONResponse({"error": detail}, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception):
        """A bug: the client gets its name in the JSON shape (never a plain-text page); the server goes on."""
        return JSONResponse({"error": f"internal error: {type(error).__name__}: {error}"[:1000]}, status_code=500)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(UI / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/v1/health")
    async def health():
        return engine.health()

    @app.get("/v1/tools")
    async def tools():
        from loupe.tools.tool_table import tool_rows

        return await asyncio.to_thread(tool_rows, engine.registry)

    @app.post("/v1/check")
    async def check(program: str = Form(..., description="VisProg text or a JSON task list")):
        return await asyncio.to_thread(engine.check, program)  # a long program must not stall the event loop

    @app.post("/v1/ask")
    async def ask(request: Request, query: str = Form(...), image: UploadFile | None = File(None),
                  right: UploadFile | None = File(None), image_path: str | None = Form(None),
                  right_path: str | None = Form(None), mode: str = Form("program"), llm: str | None = Form(None),
                  require_approval: bool = Form(False), session: str | None = Form(None),
                  fps: float | None = Form(None)):
        """Answer ``query`` about ``image`` (and ``right``, for statements about two images), or carry out an
        edit. Images are uploads, or paths under the server's ``--allow-dir``. ``session``: a turn of that
        conversation (``loupe.agent.service.sessions``; ``new`` starts one), its current image used when none is sent.
        A video (mp4, mov, avi, mkv, webm: recognised by its bytes) in ``image`` / ``image_path`` is asked about
        as ``loupe ask`` does (``fps``: the sampling rate; None chooses it): the answer carries the tracks'
        times, an edit's video is ``/v1/results/{id}/video.mp4``. ``require_approval``: an edit waits for a
        person (202); a server started with ``--require-approval`` makes every edit wait, whatever this says."""
        job = await _video(image, image_path, fps, config)
        if job is not None:
            try:
                check_video_ask(mode, right or right_path, session, llm)
                run = engine.submit_video_ask(job, query, require_approval, _client(request))
            except BaseException:
                job.discard()  # refused before it ran: its upload goes now
                raise
            return await _respond(request, engine, run)
        if fps is not None:
            raise ServiceError(422, "fps is for videos; the image given is a photo")
        left = await _image(image, image_path, "image", config, required=not session)
        second = await _image(right, right_path, "right", config)
        submit = partial(app.state.sessions.submit, session) if session else engine.submit_ask
        run = submit(left, query, second, mode, llm or None, require_approval, _client(request))
        return await _respond(request, engine, run)

    @app.post("/v1/run")
    async def run_program(request: Request, program: str = Form(...), image: UploadFile | None = File(None),
                          right: UploadFile | None = File(None), image_path: str | None = Form(None),
                          right_path: str | None = Form(None), require_approval: bool = Form(False)):
        """Run a program (VisProg text or a JSON task list) on the given images; a task list's own file
        names are read only under ``--allow-dir``. A program that writes an image, when approval is asked for
        (or the server requires it), answers 202 ``awaiting_approval`` before its first step: the program text
        exactly as sent, and its SHA-256 (``approve_url``)."""
        left = await _image(image, image_path, "image", config)
        second = await _image(right, right_path, "right", config)
        parsed, inputs = program_inputs(engine, program, left, second)
        run = engine.submit_program(parsed, inputs, _client(request), program, require_approval)
        return await _respond(request, engine, run)

    @app.get("/v1/runs/{run_id}")
    async def run_status(run_id: str):
        run = engine.run(run_id)
        return {"id": run.id, "status": run.status, "events": run.events, "result": run.result}

    @app.post("/v1/runs/{run_id}/approve")
    async def approve(request: Request, run_id: str, program_sha256: str | None = None):
        """Run the paused edit named by ``program_sha256`` (the SHA-256 of the exact program text the
        ``approval_required`` event shows; its ``approve_url`` carries it). Answers the run's result, the
        next ``approval_required`` (202) when a replanned program or a further SayCan step needs one, or
        streams the remaining events. 409 when the run waits for another program (or for nothing)."""
        seen = len(engine.run(run_id).events)
        return await _respond(request, engine, engine.decide(run_id, True, program_sha256), skip=seen)

    @app.post("/v1/runs/{run_id}/reject")
    async def reject(request: Request, run_id: str, program_sha256: str | None = None):
        """Do not run the paused edit; the run stops (status ``rejected``)."""
        seen = len(engine.run(run_id).events)
        return await _respond(request, engine, engine.decide(run_id, False, program_sha256), skip=seen)

    @app.get("/v1/results/{run_id}")
    async def result(run_id: str):
        run = engine.run(run_id)
        if run.result is None:
            return JSONResponse({"id": run.id, "status": run.status}, status_code=202)
        return run.result

    @app.get("/v1/results/{run_id}/image.png")
    async def edited_image(run_id: str, download: bool = False):
        run = engine.run(run_id)
        if run.image is None and not _is_image(run):
            raise ServiceError(404, f"run {run_id} made no image")
        image = run.image if run.image is not None else run.execution.result
        headers = {"Content-Disposition": f'attachment; filename="loupe-{run_id[:8]}.png"'} if download else None
        return Response(await asyncio.to_thread(png_bytes, image), media_type="image/png", headers=headers)

    @app.get("/v1/results/{run_id}/video.mp4")
    async def edited_video(run_id: str, download: bool = False):
        """The edited video (H.264 in mp4), served with ranges so that a browser's player can seek."""
        run = engine.run(run_id)
        edited = run.video.edited if run.video is not None else None
        if edited is None or not Path(edited.path).is_file():
            raise ServiceError(404, f"run {run_id} made no video")
        name = f"loupe-{run_id[:8]}.mp4"
        return FileResponse(edited.path, media_type="video/mp4", filename=name if download else None,
                            content_disposition_type="attachment" if download else "inline")

    @app.get("/v1/results/{run_id}/rationale.html")
    async def rationale(run_id: str):
        from loupe.agent.rationale import render_html
        from loupe.agent.video_rationale import render_video_html

        run = engine.run(run_id)
        if run.execution is None:
            raise ServiceError(404, f"run {run_id} ran no program (yet)")
        if run.video is not None and run.video.rationale is not None:
            html = run.video.rationale
        elif run.video is not None:
            html = run.video.hide_paths(await asyncio.to_thread(render_video_html, run.execution, run.query,
                                                                 run.status, (run.result or {}).get("reason") or ""))
        else:
            html = await asyncio.to_thread(render_html, run.execution, run.saycan)
        return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; img-src data:; "
                                                                      "style-src 'unsafe-inline'"})

    @app.get("/v1/results/{run_id}/steps/{output}.png")
    async def step_image(run_id: str, output: str):
        shown = thumbnail(engine.run(run_id), output)
        if shown is None:
            raise ServiceError(404, f"step {output} of run {run_id} has no image to show")
        return Response(await asyncio.to_thread(png_bytes, shown, 320), media_type="image/png")


#: starlette's multipart parser limits (``Request.form`` defaults), as the JSON error names them
MAX_FORM_FIELD_BYTES, MAX_FORM_PARTS = 1024 * 1024, 1000


def form_refusal(detail: str) -> ServiceError:
    """A form the multipart parser refused (400 from starlette): a text field past its size is 413, too
    many fields or files 400, each naming the limit; anything else (no boundary, bad data) a plain 400."""
    if "exceeded maximum size" in detail:
        return ServiceError(413, f"{detail} A text field of a form is at most 1 MB; send images as files.",
                            "max_form_field_bytes", MAX_FORM_FIELD_BYTES)
    if detail.startswith("Too many"):
        return ServiceError(400, f"bad request: {detail}", "max_form_parts", MAX_FORM_PARTS)
    return ServiceError(400, f"bad request: {detail}")


async def _image(upload: UploadFile | None, path: str | None, field: str, config: ServiceConfig,
                 required: bool = False):
    """The image of a form field: an upload (checked in bytes and pixels) or a path under --allow-dir."""
    if upload is not None and (upload.filename or upload.size):
        data = await upload.read(config.max_upload_bytes + 1)
        name = f"{field} ({upload.filename})" if upload.filename else field
        return await asyncio.to_thread(image_from_bytes, data, name, config.max_upload_bytes, config.max_megapixels)
    if path:
        return await asyncio.to_thread(image_from_path, path, config.allow_dirs, config.max_upload_bytes,
                                       config.max_megapixels)
    if required:
        raise ServiceError(422, f"no {field} given: upload a file as '{field}' or name one as '{field}_path'")
    return None


async def _video(upload: UploadFile | None, path: str | None, fps, config: ServiceConfig) -> VideoAsk | None:
    """The video of the ``image`` field, if its bytes are a video's (None: an image, or nothing): an upload
    streamed to a file under ``max_video_upload_bytes``, or a path under ``--allow-dir``; probed and checked
    against ``video_limits`` (413 naming the limit, 422 when unreadable); ``fps`` checked against it (422)."""
    if upload is not None and (upload.filename or upload.size):
        if not video_signature(await upload.read(12)):
            await upload.seek(0)
            return None
        name = f"image ({upload.filename})" if upload.filename else "image"
        file = await upload_to_file(upload, name, config.max_video_upload_bytes)
        job = VideoAsk(await asyncio.to_thread(open_video, file, name, config.video_limits), name, uploaded=True)
    elif path:
        job = await asyncio.to_thread(named_video, path, config)
    else:
        job = None
    return None if job is None else with_fps(job, fps)


def program_inputs(engine: Engine, text: str, left, right) -> tuple:
    """The parsed program and its named inputs; a task list's file names are read under --allow-dir only."""
    from loupe.programs import load_program
    from loupe.programs.errors import ProgramError

    try:
        program = load_program(text, engine.registry.names())
    except ProgramError as error:
        raise ServiceError(422, "the program does not parse:\n" + str(error)) from None
    inputs = {}
    if left is not None:
        inputs.update(IMAGE=left, LEFT=left)
    if right is not None:
        inputs["RIGHT"] = right
    for name, file in program.files:
        if name not in inputs:
            inputs[name] = image_from_path(file, engine.config.allow_dirs, engine.config.max_upload_bytes,
                                           engine.config.max_megapixels)
    if not inputs:
        raise ServiceError(422, "no input image given: upload 'image' or name 'image_path'")
    return program, inputs


def _client(request: Request) -> str:
    """The client's address: the key of the per-client cap on runs asking for approval."""
    return request.client.host if request.client else ""


async def _respond(request: Request, engine: Engine, run: Run, skip: int = 0):
    """SSE when the client accepts ``text/event-stream`` (after the first ``skip`` events); else JSON once
    the run settles (or 504). A client that goes away before the answer cancels the run."""
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_sse(engine, run, skip), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    waiting = asyncio.ensure_future(settled(run, engine.config.request_timeout_s))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not waiting.done():
            waiting.cancel()
    if not waiting.done() or waiting.cancelled():  # the client went away: nobody will read the answer
        engine.cancel(run, "cancelled", "the client disconnected before the answer")
        return JSONResponse({"error": "the client disconnected", "id": run.id}, status_code=499)
    event = waiting.result()
    if event is None or run.status == "timed_out":  # past the limit: here, or seen by the run itself first
        return JSONResponse(engine.timed_out(run), status_code=504)
    if event["event"] == "approval_required":
        return JSONResponse({"id": run.id, "status": "awaiting_approval", **event}, status_code=202)
    return run.result


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone (its body was read already: what comes now is the disconnect)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _sse(engine: Engine, run: Run, skip: int = 0):
    """Server-Sent Events: ``event: NAME`` / ``data: JSON`` per event; ends after ``done`` (or a timeout).
    A stream closed by the client before ``done`` cancels the run."""
    queue = run.subscribe()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + engine.config.request_timeout_s
    finished = False
    yield _frame({"event": "run", "id": run.id, "status": run.status})
    try:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                finished = True
                yield _frame({"event": "error", **engine.timed_out(run)})
                return
            if skip > 0:
                skip -= 1
                continue
            if event["event"] == "approval_required":
                deadline = loop.time() + engine.config.approval_timeout_s + engine.config.request_timeout_s
            if event["event"] == "done":
                finished = True
            yield _frame(event)
            if finished:
                return
    finally:
        run.unsubscribe(queue)
        if not finished:
            engine.cancel(run, "cancelled", "the client closed the event stream before the answer")


def _frame(event: dict) -> bytes:
    return f"event: {event['event']}\ndata: {json.dumps(event, default=str)}\n\n".encode()


def _is_image(run: Run) -> bool:
    from loupe.programs.values import Image

    return run.execution is not None and isinstance(run.execution.result, Image)
