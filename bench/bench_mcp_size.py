"""How much an MCP edit result weighs: the default (JSON, a small JPEG preview, the PNG written to a file)
against ``full_image=true`` (the whole PNG inline, what every edit returned before issue 25).

    python3 bench/bench_mcp_size.py          # needs `loupe models pull`

An in-process client of the official SDK calls ``ask`` ("Blur every face", planned by the service tests'
scripted planner, tests/agent/service/programs.jsonl) then ``decide_edit`` with the program's SHA-256, for each photo and setting,
and prints the characters of all content blocks and the run's status.
"""

import asyncio
import base64
import json
from pathlib import Path
import tempfile

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ("person.jpg", "family_dinner.jpg")


async def measure(client, photo: str, full_image: bool) -> tuple[int, str]:
    data = base64.b64encode((ROOT / "tests" / "data" / "photos" / photo).read_bytes()).decode()
    asked = await client.call_tool("ask", {"query": "Blur every face", "image_base64": data})
    waiting = json.loads(asked.content[0].text)
    result = await client.call_tool("decide_edit", {"run_id": waiting["run_id"], "approve": True, "full_image": full_image,
                                                    "program_sha256": waiting["program_sha256"]})
    size = sum(len(c.text) if c.type == "text" else len(c.data) for c in result.content)
    return size, json.loads(result.content[0].text)["status"]


def main() -> None:
    from mcp import Client

    from loupe.agent.service.config import ServiceConfig
    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import build_mcp
    from loupe.tools.settings import Settings

    oracle = f"oracle:{ROOT / 'tests' / 'agent' / 'service' / 'programs.jsonl'}"
    engine = Engine(ServiceConfig(llms=(oracle,), use_cache=False, settings=Settings.from_env()))
    server = build_mcp(engine, edits_dir=Path(tempfile.mkdtemp(prefix="loupe-edits-")))

    async def run():
        async with Client(server) as client:
            for photo in PHOTOS:
                for full_image in (False, True):
                    size, status = await measure(client, photo, full_image)
                    print(f"{photo:20s} {'full_image' if full_image else 'default':10s} {size:>9,} chars  {status}")

    try:
        asyncio.run(run())
    finally:
        engine.close()


if __name__ == "__main__":
    main()
