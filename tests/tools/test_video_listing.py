"""The video tools in the listings: shown and marked as applying to videos, while the default registry (what
image planners see) stays without them."""

import json
import os
import subprocess
import sys

from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
from loupe.tools.video_listing import video_backend_rows, video_tool_rows
from loupe.tools.video_tools import video_tools

VIDEO_NAMES = {tool.name for tool in video_tools()}


def test_every_video_tool_is_listed_for_videos_and_the_registry_is_left_as_it_was():
    registry = default_registry(Settings(), plugins=False)
    rows = {row["name"]: row for row in video_tool_rows(registry)}
    assert set(rows) == VIDEO_NAMES and {row["applies_to"] for row in rows.values()} == {"videos"}
    assert not VIDEO_NAMES & set(registry.names())
    assert rows["COLORPOP_FRAMES"]["signature"] == "COLORPOP_FRAMES(video: Video, tracks: Tracks) -> Video"
    assert rows["LOC_FRAMES"]["needs_model"] and rows["LOC_FRAMES"]["backends"]
    assert [b["name"] for b in rows["TRACK"]["backends"]] == ["bytetrack"]


def test_what_the_video_tools_run_on_is_in_the_backend_rows():
    backends = video_backend_rows(default_registry(Settings(), plugins=False))
    assert {(row["tool"], row["backend"]) for row in backends} >= {("FRAMES", "pyav"), ("TRACK", "bytetrack")}
    assert all(row["applies_to"] == "videos" and {"available", "reason"} <= set(row) for row in backends)


def test_loupe_tools_and_models_list_show_them_with_the_note():
    def loupe(*args):
        return subprocess.run([sys.executable, "-m", "loupe.agent.cli", *args], capture_output=True, text=True,
                              env=dict(os.environ), timeout=120)

    tools = json.loads(loupe("tools", "--json").stdout)["tools"]
    assert {row["name"] for row in tools if row.get("applies_to") == "videos"} == VIDEO_NAMES
    assert "LOC" in {row["name"] for row in tools if "applies_to" not in row}
    text = loupe("tools").stdout
    assert "BGBLUR_FRAMES(video: Video, tracks: Tracks) -> Video" in text and "applies to: videos" in text
    listed = loupe("models", "list").stdout.splitlines()
    assert any(line.startswith("TRACK") and line.endswith("(applies to videos)") for line in listed)
