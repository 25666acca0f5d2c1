"""The MCP server through the official ``mcp`` client SDK: ``python -m loupe.agent.cli mcp`` over stdio, and the
same tools mounted on the HTTP app at /mcp (streamable HTTP)."""

import asyncio
import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
import sys

import httpx
import pytest

from service_support import ORACLE, PHOTOS, LiveServer, make_config

pytestmark = pytest.mark.models
ROOT = Path(__file__).resolve().parents[3]


def _texts(result) -> list[str]:
    return [c.text for c in result.content if c.type == "text"]


def _printed_config(tmp_path, allowed: Path) -> dict:
    """``loupe mcp --print-config claude`` run as a user would, with the scripted planner."""
    command = [sys.executable, "-m", "loupe.agent.cli", "mcp", "--llm", ORACLE, "--no-cache", "--allow-dir", str(allowed),
               "--print-config", "claude"]
    printed = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, check=True)
    assert "claude_desktop_config.json" in printed.stderr
    return json.loads(printed.stdout)


def _env() -> dict:
    # the worktree's packages first (a user's install finds its own without this)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def test_stdio_server_started_from_the_printed_config(tmp_path):
    from mcp import Client, StdioServerParameters

    from loupe.agent.graph_deps import MODES

    allowed = tmp_path / "photos"
    shutil.copytree(PHOTOS, allowed)
    entry = _printed_config(tmp_path, allowed)["mcpServers"]["loupe"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert entry["args"][0] == "mcp" and {"--llm", ORACLE, "--allow-dir", str(allowed), "--no-cache"} <= set(entry["args"])
    params = StdioServerParameters(command=entry["command"], args=entry["args"], cwd=str(tmp_path), env=_env())

    async def session():
        async with Client(params, read_timeout_seconds=300) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            by_path = await client.call_tool("ask", {"query": "How many bicycles?",
                                                     "image_path": str(allowed / "dog.jpg")})
            photo = base64.b64encode((PHOTOS / "person.jpg").read_bytes()).decode()
            waiting = await client.call_tool("ask", {"query": "Blur every face", "image_base64": photo})
            pending = json.loads(_texts(waiting)[0])
            wrong = await client.call_tool("decide_edit", {"run_id": pending["run_id"], "approve": True,
                                                           "program_sha256": "0" * 64})
            edited = await client.call_tool("decide_edit", {"run_id": pending["run_id"], "approve": True,
                                                            "program_sha256": pending["program_sha256"]})
            again = await client.call_tool("ask", {"query": "Blur every face", "image_base64": photo})
            rejected = await client.call_tool("decide_edit", {"run_id": json.loads(_texts(again)[0])["run_id"],
                                                              "approve": False, "program_sha256": pending["program_sha256"]})
            outside = await client.call_tool("ask", {"query": "How many horses?", "image_path": "/etc/passwd"})
            bad_mode = await client.call_tool("ask", {"query": "How many horses?", "mode": "fast",
                                                      "image_path": str(allowed / "horses.jpg")})
            checked = await client.call_tool("check_program", {"program": "X=LOCATE(image=IMAGE)"})
            return listed, by_path, waiting, wrong, edited, rejected, outside, bad_mode, checked

    listed, by_path, waiting, wrong, edited, rejected, outside, bad_mode, checked = asyncio.run(session())
    assert sorted(listed) == ["ask", "check_program", "decide_edit", "list_tools", "run_program"]
    for tool in listed.values():  # every parameter described, the fixed choices as enums
        assert all(prop.get("description") for prop in tool.input_schema["properties"].values()), tool.name
    schema = listed["ask"].input_schema["properties"]
    assert schema["mode"]["enum"] == list(MODES)
    assert schema["llm"]["enum"] == [ORACLE] and schema["llm"]["default"] == ORACLE

    answer = json.loads(_texts(by_path)[0])
    assert not by_path.is_error and answer["answer"] == "1" and "LOC(image=IMAGE,object='bicycle')" in answer["program"]
    assert "/v1/results" not in _texts(by_path)[0]  # nothing serves those links over stdio

    pending = json.loads(_texts(waiting)[0])
    assert pending["status"] == "awaiting_approval" and pending["edits"] == ["BLUR"]
    assert pending["program_sha256"] == hashlib.sha256(pending["program"].encode()).hexdigest()
    assert not [c for c in waiting.content if c.type == "image"]  # nothing ran before the approval
    assert wrong.is_error and pending["program_sha256"] in _texts(wrong)[0]

    result = json.loads(_texts(edited)[0])
    saved = Path(result["image_path"])
    assert result["status"] == "ok" and saved.parent == allowed / "loupe-edits"
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and saved.stat().st_size > 100_000
    previews = [c for c in edited.content if c.type == "image"]
    assert [c.mime_type for c in previews] == ["image/jpeg"] and len(previews[0].data) < 40_000
    assert "/v1/results" not in _texts(edited)[0]
    assert json.loads(_texts(rejected)[0])["status"] == "rejected"
    assert outside.is_error and "outside the folders" in _texts(outside)[0]
    assert bad_mode.is_error and "program" in _texts(bad_mode)[0]
    assert "did you mean LOC" in _texts(checked)[0]


def test_an_editing_program_waits_and_runs_only_by_decide_edit_naming_its_run_and_sha256(tmp_path):
    """A second run_program call (once a client-computed SHA-256 was enough) starts another waiting run and runs
    nothing; one run's SHA-256 does not approve another run's program; deciding a finished run is refused."""
    from mcp import Client

    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp

    engine = Engine(make_config(tmp_path, allow_dirs=(PHOTOS,)))
    server = build_mcp(engine, edits_dir=tmp_path / "edits")
    program = "OBJ0=FACEDET(image=IMAGE)\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\nFINAL_RESULT=RESULT(var=IMAGE0)"
    sha256 = hashlib.sha256(program.encode()).hexdigest()
    other = program.replace("BLUR", "COLORPOP")
    photo = str(PHOTOS / "person.jpg")

    async def session():
        async with Client(server, read_timeout_seconds=120) as client:
            first = await client.call_tool("run_program", {"program": program, "image_path": photo})
            second = await client.call_tool("run_program", {"program": other, "image_path": photo})
            run_a, run_b = (json.loads(_texts(r)[0])["run_id"] for r in (first, second))
            swapped = await client.call_tool("decide_edit", {"run_id": run_b, "approve": True,
                                                             "program_sha256": sha256})
            ran = await client.call_tool("decide_edit", {"run_id": run_a, "approve": True, "program_sha256": sha256,
                                                         "full_image": True})
            again = await client.call_tool("decide_edit", {"run_id": run_a, "approve": True,
                                                           "program_sha256": sha256})
            dropped = await client.call_tool("decide_edit", {"run_id": run_b, "approve": False, "program_sha256":
                                                             json.loads(_texts(second)[0])["program_sha256"]})
            return first, second, swapped, ran, again, dropped

    try:
        first, second, swapped, ran, again, dropped = asyncio.run(session())
    finally:
        engine.close()
    waiting = json.loads(_texts(first)[0])
    assert waiting | {"next": "", "run_id": "", "expires_in_s": 0} == {
        "status": "awaiting_approval", "run_id": "", "program": program, "program_sha256": sha256,
        "edits": ["BLUR"], "expires_in_s": 0, "next": ""}
    assert not [c for c in first.content if c.type == "image"] and "decide_edit" in waiting["next"]
    assert json.loads(_texts(second)[0])["edits"] == ["COLORPOP"]
    assert swapped.is_error and "another program" in _texts(swapped)[0]
    assert list((tmp_path / "edits").iterdir()) == [Path(json.loads(_texts(ran)[0])["image_path"])]
    assert [c.mime_type for c in ran.content if c.type == "image"] == ["image/jpeg", "image/png"]
    assert again.is_error and "not waiting for approval" in _texts(again)[0]
    assert json.loads(_texts(dropped)[0])["status"] == "rejected"
    assert len(list((tmp_path / "edits").iterdir())) == 1  # the rejected run wrote nothing


def test_an_edit_that_cannot_be_written_comes_inline(tmp_path):
    from mcp import Client

    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp

    blocked = tmp_path / "edits"
    blocked.write_text("a file where the edits folder would be")
    engine = Engine(make_config(tmp_path))
    server = build_mcp(engine, edits_dir=blocked)
    photo = base64.b64encode((PHOTOS / "person.jpg").read_bytes()).decode()

    async def session():
        async with Client(server, read_timeout_seconds=120) as client:
            waiting = json.loads(_texts(await client.call_tool("ask", {"query": "Blur every face",
                                                                       "image_base64": photo}))[0])
            return await client.call_tool("decide_edit", {"run_id": waiting["run_id"], "approve": True,
                                                          "program_sha256": waiting["program_sha256"]})

    try:
        edited = asyncio.run(session())
    finally:
        engine.close()
    result = json.loads(_texts(edited)[0])
    assert result["status"] == "ok" and "could not be written" in result["errors"][-1]
    assert [c.mime_type for c in edited.content if c.type == "image"] == ["image/jpeg", "image/png"]


def test_the_http_app_serves_the_same_tools_at_mcp(tmp_path):
    from mcp import Client

    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    engine = Engine(make_config(tmp_path))
    server = LiveServer(create_app(engine=engine))
    program = "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)"
    photo = base64.b64encode((PHOTOS / "dog.jpg").read_bytes()).decode()

    person = base64.b64encode((PHOTOS / "person.jpg").read_bytes()).decode()

    async def session():
        async with Client(server.url + "/mcp", read_timeout_seconds=120) as client:
            tools = await client.call_tool("list_tools", {})
            ran = await client.call_tool("run_program", {"program": program, "image_base64": photo})
            waiting = json.loads(_texts(await client.call_tool("ask", {"query": "Blur every face",
                                                                       "image_base64": person}))[0])
            edited = await client.call_tool("decide_edit", {"run_id": waiting["run_id"], "approve": True,
                                                            "program_sha256": waiting["program_sha256"]})
            turn = await client.call_tool("ask", {"query": "How many bicycles?", "image_base64": photo,
                                                  "session": "from-mcp"})
            return tools, ran, edited, json.loads(_texts(turn)[0])

    try:
        tools, ran, edited, turn = asyncio.run(session())
        result = json.loads(_texts(edited)[0])
        image = httpx.get(server.url + result["image_url"])  # over HTTP the links lead to the service's files
        # the MCP turn's session is the HTTP API's: it goes on over /v1/ask
        follow = httpx.post(server.url + "/v1/ask", data={"query": "and horses?", "session": "from-mcp"}, timeout=120)
    finally:
        server.stop()
        engine.close()
    rows = {row["name"]: row for row in json.loads(_texts(tools)[0])["tools"]}
    assert rows["LOC"]["signature"].startswith("LOC(image: Image")
    assert json.loads(_texts(ran)[0])["answer"] == 1
    assert result["status"] == "ok" and "image_path" not in result
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert [c.mime_type for c in edited.content if c.type == "image"] == ["image/jpeg"]
    assert (turn["answer"], turn["session_url"]) == ("1", "/v1/sessions/from-mcp")
    assert follow.json()["turn"] == 2 and follow.json()["resolved_query"] == "how many horses"


def test_a_conversation_through_the_ask_tool(tmp_path):
    """A conversation held by an assistant: 'new' starts a session on the photo and its id comes back; 'blur
    them' then resolves to the faces the first turn found (approved by its program's SHA-256 as any edit),
    'undo' restores the photo exactly, and an unresolved 'them' is asked about, never guessed."""
    import numpy as np

    from mcp import Client

    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp
    from chat_script import ORACLE as CHAT_ORACLE, changed, pixels

    engine = Engine(make_config(tmp_path, llms=(CHAT_ORACLE,), allow_dirs=(PHOTOS,)))
    server = build_mcp(engine, edits_dir=tmp_path / "edits")
    photo = str(PHOTOS / "family_dinner.jpg")

    async def conversation():
        async with Client(server, read_timeout_seconds=120) as client:
            async def ask(query, **more):
                return json.loads(_texts(await client.call_tool("ask", {"query": query, **more}))[0])

            first = await ask("how many faces are there?", image_path=photo, session="new")
            session = first["session"]
            waiting = await ask("blur them", session=session)
            blurred = json.loads(_texts(await client.call_tool("decide_edit", {
                "run_id": waiting["run_id"], "approve": True, "program_sha256": waiting["program_sha256"]}))[0])
            undone = await ask("undo", session=session)
            faces = await ask("how many faces are there?", session=session)
            unknown = await client.call_tool("ask", {"query": "blur them", "session": "never-started"})
            return first, waiting, blurred, undone, faces, unknown

    try:
        first, waiting, blurred, undone, faces, unknown = asyncio.run(conversation())
    finally:
        engine.close()
    assert (first["status"], first["answer"], first["turn"], len(first["session"])) == ("ok", "8", 1, 32)
    assert waiting["status"] == "awaiting_approval" and "BLUR(image=IMAGE,object=OBJ0)" in waiting["program"]
    assert (blurred["session"], blurred["turn"], blurred["resolved_query"]) == (first["session"], 2, "blur the faces")
    assert blurred["references"][0] | {"image": None} == {"kind": "objects", "words": "them", "referent": "the faces",
                                                          "image": None, "unresolved": None}
    original = pixels(PHOTOS / "family_dinner.jpg")
    assert changed(pixels(blurred["image_path"]), original) > 0.01 and "session_url" not in blurred
    assert (undone["turn"], undone["said"]) == (3, "back to photo 1")
    assert np.array_equal(pixels(undone["image_path"]), original)
    assert (faces["turn"], faces["answer"]) == (4, "8")  # asked on the photo undo went back to
    assert unknown.is_error and "send an image to start it" in _texts(unknown)[0]


VIDEOS = PHOTOS.parent / "video"


def test_ask_about_a_video_and_approve_its_edit_through_mcp(tmp_path):
    """A video under --allow-dir: the answer has the per-track times; an edit waits for its program's
    approval, then is written to the edits folder as an mp4 at the source's rate, with a JPEG of a frame."""
    from mcp import Client

    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp
    from loupe.tools.video import probe

    engine = Engine(make_config(tmp_path, allow_dirs=(VIDEOS,)))
    server = build_mcp(engine, edits_dir=tmp_path / "edits")

    async def session():
        async with Client(server, read_timeout_seconds=120) as client:
            counted = await client.call_tool("ask", {"query": "How many people walk past?", "fps": 2,
                                                     "image_path": str(VIDEOS / "pedestrians.mp4")})
            waiting = json.loads(_texts(await client.call_tool(
                "ask", {"query": "Blur every face", "fps": 2, "image_path": str(VIDEOS / "megamind.mp4")}))[0])
            edited = await client.call_tool("decide_edit", {"run_id": waiting["run_id"], "approve": True,
                                                            "program_sha256": waiting["program_sha256"]})
            return counted, waiting, edited

    try:
        counted, waiting, edited = asyncio.run(session())
    finally:
        engine.close()
    answer = json.loads(_texts(counted)[0])
    assert answer["status"] == "ok" and answer["sampled_fps"] == 2 and answer["video"]["frames"] == 60
    assert len(answer["tracks"]) == int(answer["answer"]) and {"first_s", "last_s"} <= set(answer["tracks"][0])
    assert waiting["status"] == "awaiting_approval" and waiting["edits"] == ["BLUR_FRAMES"]
    result = json.loads(_texts(edited)[0])
    assert result["status"] == "ok" and result["answer_type"] == "video" and "video_url" not in result
    written = Path(result["video_path"])
    assert list((tmp_path / "edits").iterdir()) == [written] and written.suffix == ".mp4"
    source = probe(VIDEOS / "megamind.mp4")
    assert (probe(written).frame_count, probe(written).fps) == (source.frame_count, source.fps)
    assert [c.mime_type for c in edited.content if c.type == "image"] == ["image/jpeg"]
