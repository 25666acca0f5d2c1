"""Stand-in tools for the harness tests: LOC and FACEDET that find fixed boxes and record every batch
(size and time span), so tests can see what ran, in what order, and together with what."""

from __future__ import annotations

import threading
import time

from loupe.programs.values import Obj, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.settings import Settings

CALLS: list[tuple[str, int, float, float]] = []  # (tool, batch size, start, end)
_LOCK = threading.Lock()
BOXES = {"dog": [(10, 10, 30, 30)], "cat": [(5, 5, 15, 15), (40, 40, 60, 60)], "face": [(20, 20, 40, 40)]}


def _note(name, size, start):
    with _LOCK:
        CALLS.append((name, size, start, time.perf_counter()))


class RecordingLoc(Tool):
    name = "LOC"
    description = "Test LOC: fixed boxes per object name; records its batches."
    inputs = {"image": Param(ValueType.IMAGE), "object": Param(ValueType.TEXT)}
    output = ValueType.OBJECTS

    def execute_batch(self, calls):
        start = time.perf_counter()
        time.sleep(0.01)
        _note("LOC", len(calls), start)
        return [Objects(tuple(Obj(b, c["object"], 0.9) for b in BOXES.get(c["object"], [])), c["image"].size)
                for c in calls]


class RecordingFaces(Tool):
    name = "FACEDET"
    description = "Test FACEDET: one fixed face; records its batches."
    inputs = {"image": Param(ValueType.IMAGE)}
    output = ValueType.OBJECTS

    def execute_batch(self, calls):
        start = time.perf_counter()
        time.sleep(0.01)
        _note("FACEDET", len(calls), start)
        return [Objects((Obj(BOXES["face"][0], "face", 0.9),), c["image"].size) for c in calls]


def registry():
    """``module:function`` target for specs: the default tools with the stand-ins above."""
    from loupe.tools.registry import default_registry

    reg = default_registry(Settings.from_env(), plugins=False)
    reg.register(RecordingLoc)
    reg.register(RecordingFaces)
    return reg

