"""The HTTP app of ``loupe serve``: the API under ``/v1``, the web page at ``/``, MCP at ``/mcp``.

``POST /v1/ask`` and ``POST /v1/run`` answer JSON, or stream Server-Sent Events with
``Accept: text/event-stream`` (plan, check, step ..., answer, done). A run whose edit needs approval
answers 202 (``awaiting_approval``) and goes on with ``POST /v1/runs/{id}/approve`` or ``/reject``.
Every refusal is JSON: ``{"error": ..., "limit": ..., "value": ...}``. OpenAPI docs at ``/docs``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from agent.service.config import ServiceConfig
from agent.service.engine import Engine
from agent.service.guard import Guard
from agent.service.limits import ServiceError, image_from_bytes, image_from_path
from agent.service.results import png_bytes, thumbnail
from agent.service.runs import Run, settled

UI = Path(__file__).resolve().parent / "ui"


def create_app(config: ServiceConfig | None = None, engine: Engine | None = None, mcp: bool = True):
    """The ASGI app (FastAPI inside the token / size guard) over ``engine`` (built from ``config``)."""
    config = config or (engine.config if engine else ServiceConfig())
    engine = engine or Engine(config)
    lifespan = None
    if mcp:
        from agent.service.mcp_server import build_mcp, mcp_lifespan, mcp_security

        server = build_mcp(engine)
        lifespan = mcp_lifespan(server)
    app = FastAPI(title="Loupe", version="0.1.0", lifespan=lifespan,
                  description="Ask questions about photos and edit them with checked visual programs.")
    app.state.engine = engine
    _routes(app, engine)
    if mcp:  # the MCP endpoint's routes join the app's, so /mcp sits beside /v1 behind the same guard
        app.router.routes.extend(server.streamable_http_app(
            streamable_http_path="/mcp", transport_security=mcp_security(config)).routes)
    app.mount("/ui", StaticFiles(directory=UI), name="ui")
    return Guard(app, config.token, 2 * config.max_upload_bytes + 1024 * 1024)


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

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(UI / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/v1/health")
    async def health():
        return engine.health()

    @app.get("/v1/tools")
    async def tools():
        from tools.tool_table import tool_rows

        return await asyncio.to_thread(tool_rows, engine.registry)

    @app.post("/v1/check")
    async def check(program: str = Form(..., description="VisProg text or a JSON task list")):
        return engine.check(program)

    @app.post("/v1/ask")
    async def ask(request: Request, query: str = Form(...), image: UploadFile | None = File(None),
                  right: UploadFile | None = File(None), image_path: str | None = Form(None),
                  right_path: str | None = Form(None), mode: str = Form("program"), llm: str | None = Form(None),
                  require_approval: bool = Form(False)):
        """Answer ``query`` about ``image`` (and ``right``, for statements about two images), or carry out an
        edit. Images are uploads, or paths under the server's ``--allow-dir``."""
        left = await _image(image, image_path, "image", config, required=True)
        second = await _image(right, right_path, "right", config)
        run = engine.submit_ask(left, query, second, mode, llm or None, require_approval)
        return await _respond(request, engine, run)

    @app.post("/v1/run")
    async def run_program(request: Request, program: str = Form(...), image: UploadFile | None = File(None),
                          right: UploadFile | None = File(None), image_path: str | None = Form(None),
                          right_path: str | None = Form(None)):
        """Run a program (VisProg text or a JSON task list) on the given images; a task list's own file
        names are read only under ``--allow-dir``."""
        left = await _image(image, image_path, "image", config)
        second = await _image(right, right_path, "right", config)
        parsed, inputs = program_inputs(engine, program, left, second)
        return await _respond(request, engine, engine.submit_program(parsed, inputs))

    @app.get("/v1/runs/{run_id}")
    async def run_status(run_id: str):
        run = engine.run(run_id)
        return {"id": run.id, "status": run.status, "events": run.events, "result": run.result}

    @app.post("/v1/runs/{run_id}/approve")
    async def approve(request: Request, run_id: str):
        """Run the paused edit; answers the run's result (or streams its remaining events)."""
        seen = len(engine.run(run_id).events)
        return await _respond(request, engine, engine.decide(run_id, True), skip=seen)

    @app.post("/v1/runs/{run_id}/reject")
    async def reject(request: Request, run_id: str):
        """Do not run the paused edit; answers the run's result (status ``rejected``)."""
        seen = len(engine.run(run_id).events)
        return await _respond(request, engine, engine.decide(run_id, False), skip=seen)

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

    @app.get("/v1/results/{run_id}/rationale.html")
    async def rationale(run_id: str):
        from agent.rationale import render_html

        run = engine.run(run_id)
        if run.execution is None:
            raise ServiceError(404, f"run {run_id} ran no program (yet)")
        html = await asyncio.to_thread(render_html, run.execution, run.saycan)
        return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; img-src data:; "
                                                                      "style-src 'unsafe-inline'"})

    @app.get("/v1/results/{run_id}/steps/{output}.png")
    async def step_image(run_id: str, output: str):
        shown = thumbnail(engine.run(run_id), output)
        if shown is None:
            raise ServiceError(404, f"step {output} of run {run_id} has no image to show")
        return Response(await asyncio.to_thread(png_bytes, shown, 320), media_type="image/png")


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


def program_inputs(engine: Engine, text: str, left, right) -> tuple:
    """The parsed program and its named inputs; a task list's file names are read under --allow-dir only."""
    from programs import load_program
    from programs.errors import ProgramError

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


async def _respond(request: Request, engine: Engine, run: Run, skip: int = 0):
    """SSE when the client accepts ``text/event-stream`` (after the first ``skip`` events); else JSON once
    the run settles (or 504)."""
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(_sse(engine, run, skip), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    event = await settled(run, engine.config.request_timeout_s)
    if event is None:
        return JSONResponse(engine.timed_out(run), status_code=504)
    if event["event"] == "approval_required":
        return JSONResponse({"id": run.id, "status": "awaiting_approval", **event}, status_code=202)
    return run.result


async def _sse(engine: Engine, run: Run, skip: int = 0):
    """Server-Sent Events: ``event: NAME`` / ``data: JSON`` per event; ends after ``done`` (or a timeout)."""
    queue = run.subscribe()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + engine.config.request_timeout_s
    seen_decision = run.decision is not None
    yield _frame({"event": "run", "id": run.id, "status": run.status})
    try:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                yield _frame({"event": "error", **engine.timed_out(run)})
                return
            if skip > 0:
                skip -= 1
                continue
            if event["event"] == "approval_required":
                if seen_decision:
                    continue
                deadline = loop.time() + engine.config.approval_timeout_s + engine.config.request_timeout_s
            yield _frame(event)
            if event["event"] == "done":
                return
    finally:
        run.unsubscribe(queue)


def _frame(event: dict) -> bytes:
    return f"event: {event['event']}\ndata: {json.dumps(event, default=str)}\n\n".encode()


def _is_image(run: Run) -> bool:
    from programs.values import Image

    return run.execution is not None and isinstance(run.execution.result, Image)
