"""The MCP server (official ``mcp`` SDK): ``ask``, ``run_program``, ``check_program``, ``list_tools``.

``loupe mcp`` serves it over stdio; ``loupe serve`` mounts the same tools at ``/mcp`` (streamable HTTP).
Images come in as a path under ``--allow-dir`` or as base64 (PNG/JPEG bytes), and go out as image
content next to a JSON text block (answer, program, steps). Edits run without asking: an MCP client
asks its user before it calls a tool.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import json

from agent.service.engine import Engine
from agent.service.limits import ServiceError, image_from_bytes, image_from_path
from agent.service.results import png_bytes
from agent.service.runs import settled
from programs.errors import LoupeError


def build_mcp(engine: Engine):
    from mcp.server import MCPServer
    from mcp.server.mcpserver.utilities.types import Image as McpImage

    server = MCPServer("loupe", instructions="Answer questions about photos and edit them with checked visual "
                                             "programs. Give images as a path or as base64 PNG/JPEG bytes.")
    config = engine.config

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

    async def finish(run) -> list:
        event = await settled(run, config.request_timeout_s)
        if event is None:
            raise ServiceError(504, engine.timed_out(run)["error"])
        result = run.result or {}
        content: list = [json.dumps(result, indent=2, default=str)]
        image = run.image if run.image is not None else None
        if image is None and run.execution is not None and result.get("answer_type") == "image":
            image = run.execution.result
        if image is not None:
            content.append(McpImage(data=png_bytes(image), format="png"))
        return content

    @server.tool()
    @_plain_errors
    async def ask(query: str, image_path: str | None = None, image_base64: str | None = None,
                  right_path: str | None = None, right_base64: str | None = None, mode: str = "program",
                  llm: str | None = None) -> list:
        """Answer a question about a photo (or a statement about two photos: give right_* too), or carry out an
        edit ("blur the faces"). Returns the answer, the program and its steps as JSON, and the edited image."""
        left = image_of(image_path, image_base64, "image", required=True)
        right = image_of(right_path, right_base64, "right")
        return await finish(engine.submit_ask(left, query, right, mode, llm))

    @server.tool()
    @_plain_errors
    async def run_program(program: str, image_path: str | None = None, image_base64: str | None = None,
                          right_path: str | None = None, right_base64: str | None = None) -> list:
        """Run a visual program (one step per line, e.g. BOX0=LOC(image=IMAGE,object='dog')) or a JSON task list
        on a photo. Returns the result and each step as JSON, and the image when the result is one."""
        from agent.service.app import program_inputs

        left = image_of(image_path, image_base64, "image")
        right = image_of(right_path, right_base64, "right")
        parsed, inputs = program_inputs(engine, program, left, right)
        return await finish(engine.submit_program(parsed, inputs))

    @server.tool()
    @_plain_errors
    async def check_program(program: str) -> dict:
        """Parse and type-check a program without running it: ok, or every error with line, column and a hint."""
        return await asyncio.to_thread(engine.check, program)

    @server.tool()
    @_plain_errors
    async def list_tools() -> dict:
        """The vision tools a program may call: signature, description, and the backends installed here."""
        from tools.tool_table import tool_rows

        return {"tools": await asyncio.to_thread(tool_rows, engine.registry)}

    return server


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
    """Serve the tools over stdin/stdout until the client closes them."""
    asyncio.run(build_mcp(engine).run_stdio_async())
