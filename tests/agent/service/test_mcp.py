"""The MCP server through the official ``mcp`` client SDK: ``python -m agent.cli mcp`` over stdio, and the
same tools mounted on the HTTP app at /mcp (streamable HTTP)."""

import asyncio
import base64
import json
import os
from pathlib import Path
import sys

import pytest

from service_support import ORACLE, PHOTOS, LiveServer, make_config

pytestmark = pytest.mark.models
ROOT = Path(__file__).resolve().parents[3]


def _texts(result) -> list[str]:
    return [c.text for c in result.content if c.type == "text"]


def test_stdio_server_lists_tools_and_answers_about_a_photo(tmp_path):
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    params = StdioServerParameters(command=sys.executable, cwd=str(tmp_path), env=env,
                                   args=["-m", "agent.cli", "mcp", "--llm", ORACLE, "--no-cache",
                                         "--allow-dir", str(PHOTOS)])

    async def session():
        async with Client(params, read_timeout_seconds=300) as client:
            names = sorted(t.name for t in (await client.list_tools()).tools)
            by_path = await client.call_tool("ask", {"query": "How many bicycles?",
                                                     "image_path": str(PHOTOS / "dog.jpg")})
            inline = await client.call_tool("ask", {"query": "Blur every face", "image_base64": base64.b64encode(
                (PHOTOS / "person.jpg").read_bytes()).decode()})
            outside = await client.call_tool("ask", {"query": "How many horses?", "image_path": "/etc/passwd"})
            checked = await client.call_tool("check_program", {"program": "X=LOCATE(image=IMAGE)"})
            return names, by_path, inline, outside, checked

    names, by_path, inline, outside, checked = asyncio.run(session())
    assert names == ["ask", "check_program", "list_tools", "run_program"]
    answer = json.loads(_texts(by_path)[0])
    assert not by_path.is_error and answer["answer"] == "1" and "LOC(image=IMAGE,object='bicycle')" in answer["program"]
    images = [c for c in inline.content if c.type == "image"]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(_texts(inline)[0])["answer_type"] == "image"
    assert outside.is_error and "outside the folders" in _texts(outside)[0]
    assert "did you mean LOC" in _texts(checked)[0]


def test_the_http_app_serves_the_same_tools_at_mcp(tmp_path):
    from mcp import Client

    from agent.service.app import create_app
    from agent.service.engine import Engine

    engine = Engine(make_config(tmp_path))
    server = LiveServer(create_app(engine=engine))
    program = "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"
    photo = base64.b64encode((PHOTOS / "dog.jpg").read_bytes()).decode()

    async def session():
        async with Client(server.url + "/mcp", read_timeout_seconds=120) as client:
            tools = await client.call_tool("list_tools", {})
            ran = await client.call_tool("run_program", {"program": program, "image_base64": photo})
            return tools, ran

    try:
        tools, ran = asyncio.run(session())
    finally:
        server.stop()
        engine.close()
    rows = {row["name"]: row for row in json.loads(_texts(tools)[0])["tools"]}
    assert rows["LOC"]["signature"].startswith("LOC(image: Image")
    assert json.loads(_texts(ran)[0])["answer"] == 1
