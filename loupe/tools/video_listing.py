"""The video tools in ``loupe tools`` and ``loupe models list``: shown, marked as applying to videos.

The video tools join a registry only where a video is the input (image planners never see them), so the
listings add them here, each row with ``applies_to: "videos"``. LOC_FRAMES runs LOC's backends on every
sampled frame, so it lists those that can run here; FRAMES and TRACK list the libraries they need (PyAV,
``trackers``), which are not model backends but can be missing all the same.
"""

from __future__ import annotations

import importlib.util
from loupe.tools.install import pip_extra

APPLIES_TO = "videos"
_LIBRARIES = {"FRAMES": ("pyav", "av"), "TRACK": ("bytetrack", "trackers")}   # tool: (backend name, module)


def video_tool_rows(registry) -> list[dict]:
    """``loupe.tools.tool_table.tool_rows`` for the video tools, with ``applies_to`` (``registry`` is not changed)."""
    from loupe.tools.tool_table import tool_rows
    from loupe.tools.video_tools import video_tools

    names = {tool.name for tool in video_tools()}
    rows = [row for row in tool_rows(_with_video_tools(registry)) if row["name"] in names]
    loc = _loc_backends(registry)
    for row in rows:
        row["applies_to"] = APPLIES_TO
        if row["name"] == "LOC_FRAMES":   # LOC's backends that can run here (the rest are listed under LOC)
            ready = [{**b, "name": f"{b['name']} (LOC)"} for b in loc if b["available"]]
            row["needs_model"] = True
            row["backends"] = ready or [{"name": "LOC", "available": False,
                                         "reason": "no backend of LOC can run here (see LOC)"}]
        elif row["name"] in _LIBRARIES:
            name, module = _LIBRARIES[row["name"]]
            ok = importlib.util.find_spec(module) is not None
            row["backends"] = [{"name": name, "available": ok, "reason": "" if ok else _missing(module)}]
    return rows


def video_backend_rows(registry) -> list[dict]:
    """Rows like ``loupe.tools.tool_table.backend_rows`` for what the video tools run on, with ``applies_to``."""
    rows = []
    for row in video_tool_rows(registry):
        for backend in row["backends"]:
            rows.append({"tool": row["name"], "backend": backend["name"], "available": backend["available"],
                         "reason": backend["reason"], "gpu_recommended": False, "priority": 0, "weights": "",
                         "memory": "", "applies_to": APPLIES_TO})
    return rows


def _with_video_tools(registry):
    from loupe.tools.registry import ToolRegistry
    from loupe.tools.video_tools import register_video_tools

    copy = ToolRegistry(registry.context)
    register_video_tools(copy)
    return copy


def _loc_backends(registry) -> list[dict]:
    from loupe.tools.tool_table import tool_rows

    return next((row["backends"] for row in tool_rows(registry) if row["name"] == "LOC"), [])


def _missing(module: str) -> str:
    return f"the Python package {module!r} is not installed ({pip_extra('lite')})"
