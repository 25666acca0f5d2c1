"""The MCP server (official ``mcp`` SDK): ``ask``, ``decide_edit``, ``run_program``, ``check_program``,
``list_tools``.

``ask`` with ``session`` holds a conversation (``loupe.agent.service.sessions``, shared with HTTP's ``/v1/ask``):
``new`` starts one on the photos given, the result carries its id, and a follow-up with that id ("blur
them", "undo", "and cats?") is about the session's current image and what its last turn found.

``loupe mcp`` serves it over stdio; ``loupe serve`` mounts the same tools at ``/mcp`` (streamable HTTP).
Every parameter's type, enum and description comes from one table (``_params``), so a client's model sees
the same words wherever a parameter appears, and the choices of ``mode`` and ``llm`` (this server's) as enums.

Images come in as a path under ``--allow-dir`` or as base64 (PNG/JPEG bytes); a video (mp4, mov, avi, mkv,
webm, recognised by its bytes) as a path under ``--allow-dir``, asked about as ``loupe ask`` does (``fps``;
the answer carries the tracks' times). Results are a JSON text block and, when the answer is an image or a
video, a small JPEG preview (of a video: its first frame). Over stdio nothing serves ``/v1/results`` links, so
the JSON has none: an edited image or video is written to a file (``edits_dir``) and its path given. Over
HTTP the links are live. ``full_image=true`` adds the whole PNG inline (images only).

Approval: no edit runs on the call that asks for it, whatever the server's ``require_approval``. ``ask`` and
``run_program`` answer ``awaiting_approval`` with the exact program, its SHA-256 and the run id; the run waits
(holding no worker) until ``decide_edit`` names that run and that program's SHA-256 (the service's own
``Engine.decide``: a replanned program, or SayCan's next editing step, is a new decision with its own
SHA-256). So an edit always takes a second tool call that names a run already waiting: no single call, and
no SHA-256 a client computes for itself, runs one. Why two calls and not MCP elicitation: elicitation needs
the client's support (many clients have none, and a client without it could never run an edit), and its
answer is not tied to a program text; a tool call is, and hosts show each tool call, with its arguments, to
their user.
"""


import asyncio
import base64
import binascii
import contextlib
import functools
import io
import json
import os
from pathlib import Path
import shutil
import sys
from typing import Annotated, Literal

from pydantic import Field

from loupe.agent.service.engine import Engine
from loupe.agent.service.limits import ServiceError, image_from_bytes, image_from_path
from loupe.agent.service.results import png_bytes
from loupe.agent.service.runs import Run, settled
from loupe.agent.service.sessions import sessions_of
from loupe.agent.service.videos import check_video_ask, named_video, with_fps
from loupe.programs.errors import LoupeError

PREVIEW_SIDE = 256   # pixels on the longest side of an edit's inline preview (a JPEG of ~10 KB)
CLIENTS = {"claude": "Claude Desktop: claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, "
                     "Windows: %APPDATA%\\Claude\\); restart Claude Desktop after editing it",
           "cursor": "Cursor: ~/.cursor/mcp.json (every project) or .cursor/mcp.json in a project"}


def _params(engine: Engine) -> dict:
    """Each tool parameter's type (enums for the fixed choices) and description: the one place they are
    written. ``llm``'s choices are the LLMs this server offers."""
    from loupe.agent.graph_deps import MODES

    def param(kind, description: str, choices: tuple = ()):
        # pydantic writes a one-choice Literal as "const": the enum is spelled out for clients that read only enum
        return Annotated[kind, Field(description=description, json_schema_extra={"enum": list(choices)} if choices
                                     else None)]

    def image(side: str, role: str, video: str = ""):
        return {f"{side}_path": param(str | None, f"{role}: a file under a folder the server allows (--allow-dir)"
                                                  f"{video}; or give {side}_base64"),
                f"{side}_base64": param(str | None, f"{role}: the PNG or JPEG file's bytes in base64")}

    return {
        "query": param(str, 'A question about the photo ("How many dogs?") or an edit ("Blur every face").'),
        "program": param(str, "A visual program, one step per line (BOX0=LOC(image=IMAGE,object='dog')), or a "
                              "JSON task list; list_tools gives the steps a program may call."),
        "mode": param(Literal[MODES], "program: plan one checked program (default); tasks: a JSON task list; "
                                      "saycan: choose one step at a time."),
        "llm": param(Literal[engine.config.llms], "The LLM that plans (one this server offers).", engine.config.llms),
        "full_image": param(bool, "Also return the whole edited image inline as PNG (large); by default a small "
                                  "preview, and the edit's file path or URL."),
        "run_id": param(str, "The run that waits for approval (the id in ask's awaiting_approval answer)."),
        "program_sha256": param(str, "The program_sha256 of the awaiting_approval answer: the SHA-256 of the exact "
                                     "program being approved or rejected."),
        "approve": param(bool, "true: run the edit; false: do not run it (the run ends as rejected)."),
        "session": param(str | None, "To hold a conversation: 'new' starts one on the photo(s) given and the result "
                                     "carries its id as session; give that id with each follow-up (\"blur them\", "
                                     "\"undo\", \"and cats?\"), which is then about the conversation's current image "
                                     "(send no photo). Omitted: a single question, remembered by nothing."),
        "fps": param(float | None, "For a video: frames per second to sample, e.g. 2 (lower is faster); omitted: "
                                   "chosen from the question and the clip."),
        **image("image", "The photo", " (or a video: mp4, mov, avi, mkv, webm)"),
        **image("right", "A second photo, for statements about two photos"),
    }


def build_mcp(engine: Engine, edits_dir: Path | None = None):
    """The MCP server over ``engine``. ``edits_dir`` (stdio): edited images are written there and results carry
    no URLs; None (HTTP): results carry the service's live ``/v1/results`` URLs."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver import Context

    server = MCPServer("loupe", instructions="Answer questions about photos and edit them with checked visual "
                                             "programs. Give images as a path or as base64 PNG/JPEG bytes. An edit "
                                             "runs only after its exact program is approved (decide_edit).")
    config = engine.config
    p = _params(engine)
    default_llm = config.default_llm

    def image_of(path: str | None, data: str | None, field: str, required: bool = False):
        if data:
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise ServiceError(422, f"{field}_base64 is not valid base64") from None
            return image_from_bytes(raw, field, config.max_upload_bytes, config.max_megapixels)
        if path:
            return image_from_path(path, config.allow_dirs, config.max_upload_bytes, config.max_megapixels)
        if required:
            raise ServiceError(422, f"give {field}_path (a file under --allow-dir) or {field}_base64")
        return None

    async def finish(run: Run, full_image: bool) -> list:
        event = await settled(run, config.request_timeout_s)
        if event is None:
            raise ServiceError(504, engine.timed_out(run)["error"])
        if event["event"] == "approval_required":
            return [_json(_awaiting(event, f"call decide_edit with run_id={run.id!r} and program_sha256="
                                           f"{event['program_sha256']!r} and approve=true to run it (or false)"))]
        image = _result_image(run)
        result = dict(run.result or {})
        edited_video = run.video.edited if run.video is not None else None
        if edited_video is not None:
            image = await asyncio.to_thread(first_frame, edited_video)
            full_image = False  # a video's frame is a preview, never the result
        if edits_dir is not None:
            result = _without_links(result)
            if edited_video is not None:
                try:
                    saved = await asyncio.to_thread(_save_video, edited_video, edits_dir, run)
                    result["answer"] = result["video_path"] = str(saved)
                except OSError as error:
                    result["answer"] = None
                    result["errors"] = [*result.get("errors", []), f"the edited video could not be written to "
                                                                   f"{edits_dir}: {error.strerror}"]
            elif image is not None:
                try:
                    result["answer"] = result["image_path"] = str(await asyncio.to_thread(_save, image, edits_dir, run))
                except OSError as error:  # the edit is not lost: it comes inline
                    result["errors"] = [*result.get("errors", []), f"the edit could not be written to {edits_dir}: "
                                                                   f"{error.strerror}; it is inline instead"]
                    full_image = True
        return _content(result, image, full_image)

    @server.tool()
    @_plain_errors
    async def ask(query: p["query"], image_path: p["image_path"] = None, image_base64: p["image_base64"] = None,
                  right_path: p["right_path"] = None, right_base64: p["right_base64"] = None,
                  mode: p["mode"] = "program", llm: p["llm"] = default_llm, full_image: p["full_image"] = False,
                  session: p["session"] = None, fps: p["fps"] = None, ctx: Context = None) -> list:
        """Answer a question about a photo (or a statement about two photos: give right_* too) or a video
        ("How many people walk past?": the answer carries each track's times), or carry out an
        edit ("blur the faces"). Returns the answer, the program and its steps as JSON. An edit first answers
        awaiting_approval with its program: run it with decide_edit. With session, a turn of a conversation:
        a follow-up may say "them", "it", "undo", "the first photo"; a reference it cannot resolve answers
        status needs_clarification with the question in reason."""
        job = None if image_base64 or not image_path else named_video(image_path, config)
        if job is not None:
            with_fps(job, fps)
            check_video_ask(mode, right_path or right_base64, session, None if llm == default_llm else llm)
            return await finish(engine.submit_video_ask(job, query, True, _client(ctx)), False)
        if fps is not None:
            raise ServiceError(422, "fps is for videos; image_path is a photo")
        left = image_of(image_path, image_base64, "image", required=not session)
        right = image_of(right_path, right_base64, "right")
        submit = functools.partial(sessions_of(engine).submit, session) if session else engine.submit_ask
        run = submit(left, query, right, mode, llm, True, _client(ctx))
        return await finish(run, full_image)

    @server.tool()
    @_plain_errors
    async def decide_edit(run_id: p["run_id"], program_sha256: p["program_sha256"], approve: p["approve"],
                          full_image: p["full_image"] = False) -> list:
        """Approve or reject the edit program an ask or run_program waits for, named by its run and its SHA-256.
        Returns the result, or
        awaiting_approval again when a replanned program (or SayCan's next edit) needs its own approval."""
        run = engine.decide(run_id, approve, program_sha256)
        return await finish(run, full_image)

    @server.tool()
    @_plain_errors
    async def run_program(program: p["program"], image_path: p["image_path"] = None,
                          image_base64: p["image_base64"] = None, right_path: p["right_path"] = None,
                          right_base64: p["right_base64"] = None, full_image: p["full_image"] = False,
                          ctx: Context = None) -> list:
        """Run a visual program or a JSON task list on a photo. Returns the result and each step as JSON. A
        program that edits answers awaiting_approval first, with its run_id: run it with decide_edit."""
        from loupe.agent.service.app import program_inputs

        left = image_of(image_path, image_base64, "image")
        right = image_of(right_path, right_base64, "right")
        parsed, inputs = program_inputs(engine, program, left, right)
        return await finish(engine.submit_program(parsed, inputs, _client(ctx), program, True), full_image)

    @server.tool()
    @_plain_errors
    async def check_program(program: p["program"]) -> dict:
        """Parse and type-check a program without running it: ok, or every error with line, column and a hint."""
        return await asyncio.to_thread(engine.check, program)

    @server.tool()
    @_plain_errors
    async def list_tools() -> dict:
        """The vision tools a program may call: signature, description, and the backends installed here."""
        from loupe.tools.tool_table import tool_rows

        return {"tools": await asyncio.to_thread(tool_rows, engine.registry)}

    return server


def _client(ctx) -> str:
    """The key of the per-client cap on runs asking for approval: the HTTP client's address, or stdio's one."""
    request = getattr(ctx.request_context, "request", None) if ctx is not None else None
    address = getattr(request, "client", None)
    return f"mcp:{address.host}" if address else "mcp:stdio"


def _awaiting(event: dict, next_step: str) -> dict:
    """What a client reads when an edit waits for approval: the exact program, its SHA-256, what to do."""
    keys = ("run_id", "program", "program_sha256", "edits", "expires_in_s")
    return {"status": "awaiting_approval", **{k: event[k] for k in keys if k in event}, "next": next_step}


def _result_image(run: Run):
    if run.image is not None:
        return run.image
    if run.execution is not None and (run.result or {}).get("answer_type") == "image":
        return run.execution.result
    return None


def _without_links(result: dict) -> dict:
    """``result`` with no ``/v1/results`` or ``/v1/sessions`` URL (nothing serves them over stdio)."""
    result = {k: v for k, v in result.items() if k not in ("image_url", "video_url", "rationale_url",
                                                                    "session_url")}
    result["steps"] = [{k: v for k, v in step.items() if k != "thumbnail"} for step in result.get("steps", [])]
    return result


def _save(image, folder: Path, run: Run) -> Path:
    """Write the edited ``image`` as a new PNG in ``folder`` (never over an existing file); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"loupe-edit-{run.id[:12]}.png"
    with open(path, "xb") as out:
        out.write(png_bytes(image))
    return path.resolve()


def _save_video(video, folder: Path, run: Run) -> Path:
    """Copy the edited ``video`` to a new mp4 in ``folder`` (never over an existing file); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"loupe-edit-{run.id[:12]}.mp4"
    with open(path, "xb") as out, open(video.path, "rb") as source:
        shutil.copyfileobj(source, out)
    return path.resolve()


def first_frame(video):
    """The first frame of ``video`` (for its preview)."""
    from loupe.tools.video import sample

    return next(iter(sample(video, 1.0)), (0.0, None))[1]


def _content(result: dict, image, full_image: bool) -> list:
    from mcp.server.mcpserver.utilities.types import Image as McpImage

    content: list = [_json(result)]
    if image is not None:
        content.append(McpImage(data=_preview(image), format="jpeg"))
        if full_image:
            content.append(McpImage(data=png_bytes(image), format="png"))
    return content


def _preview(image) -> bytes:
    pil = image.to_pil().convert("RGB")
    pil.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, default=str)


def _plain_errors(tool):
    """Refusals and Loupe's own errors reach the client with their message (the SDK hides other errors')."""
    @functools.wraps(tool)
    async def call(*args, **kwargs):
        from mcp.server.mcpserver.exceptions import ToolError

        try:
            return await tool(*args, **kwargs)
        except (ServiceError, LoupeError) as error:
            raise ToolError(str(error)) from None
    return call


def edits_dir_of(engine: Engine) -> Path:
    """Where ``loupe mcp`` writes edited images: ``loupe-edits`` in the first ``--allow-dir`` (a folder the
    user opened to it, next to the photos), else in Loupe's cache folder."""
    if engine.config.allow_dirs:
        return engine.config.allow_dirs[0] / "loupe-edits"
    return engine.config.settings.cache_root() / "edits"


def client_config(args: list[str]) -> dict:
    """The ``mcpServers`` entry that starts this install's ``loupe mcp`` with ``args`` (the same JSON in Claude
    Desktop and Cursor): the absolute path of the ``loupe`` script beside this Python (a virtualenv's own),
    or this Python running the CLI module when there is no such script."""
    script = Path(sys.executable).parent / ("loupe.exe" if os.name == "nt" else "loupe")
    if script.exists():
        command, prefix = str(script), []
    else:
        command, prefix = sys.executable, ["-m", __name__.split(".service.")[0] + ".cli"]
    return {"mcpServers": {"loupe": {"command": command, "args": [*prefix, "mcp", *args]}}}


def mcp_lifespan(server):
    """A FastAPI lifespan running the MCP session manager (streamable HTTP needs it)."""
    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with server.session_manager.run():
            yield
    return lifespan


def mcp_security(config):
    """DNS-rebinding protection for /mcp, with the same Host allowlist as every other route (the app's
    guard checks it first; this is the SDK's own check of the same list)."""
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = [h for h in config.trusted_hosts if h != "::1"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in hosts and not any(h.startswith("*.") for h in hosts),
        allowed_hosts=[f"{h}:*" for h in hosts] + hosts,
        allowed_origins=[f"{scheme}://{h}{port}" for h in hosts for scheme in ("http", "https")
                         for port in (":*", "")])


def serve_stdio(engine: Engine) -> None:
    """Serve the tools over stdin/stdout until the client closes them; edits are written to ``edits_dir_of``."""
    asyncio.run(build_mcp(engine, edits_dir_of(engine)).run_stdio_async())
