"""Small stand-in tools for interpreter and agent tests (no models)."""

from __future__ import annotations

import threading
import time

from loupe.programs.errors import ToolError
from loupe.programs.values import Obj, Objects, ValueType
from loupe.tools.base import Param, Tool


class SlowLoc(Tool):
    """LOC stand-in: finds ``count_for[object]`` boxes after ``delay`` seconds; 'boom' crashes."""

    name = "LOC"
    description = "Test locator that sleeps, then returns a fixed number of boxes."
    inputs = {"image": Param(ValueType.IMAGE), "object": Param(ValueType.TEXT)}
    output = ValueType.OBJECTS
    delay = 0.2
    count_for = {"tie": 2, "glasses": 1}

    def execute(self, image, object):
        time.sleep(self.delay)
        if object == "boom":
            raise RuntimeError("model crashed")
        if object == "refuse":
            raise ToolError("the detector cannot find 'refuse'")
        boxes = tuple(Obj((i, i, i + 5, i + 5), object, 0.9) for i in range(self.count_for.get(object, 0)))
        return Objects(boxes, image.size)


class InstantLoc(SlowLoc):
    """LOC stand-in that answers at once."""

    delay = 0.0


class BatchLoc(SlowLoc):
    """LOC stand-in with a real batched call: records the size of every batch it was given."""

    batches_seen: list[int] = []
    lock = threading.Lock()

    def execute_batch(self, calls):
        with self.lock:
            type(self).batches_seen.append(len(calls))
        time.sleep(self.delay)
        return [Objects((Obj((0, 0, 2, 2), c["object"]),), c["image"].size) for c in calls]


class WrongType(Tool):
    name = "VQA"
    description = "Test VQA that returns a number where text is declared."
    inputs = {"image": Param(ValueType.IMAGE), "question": Param(ValueType.TEXT)}
    output = ValueType.TEXT

    def execute(self, image, question):
        return 42


class Hang(Tool):
    name = "CAPTION"
    description = "Test captioner that never finishes in time."
    inputs = {"image": Param(ValueType.IMAGE)}
    output = ValueType.TEXT

    finished = threading.Event()

    def execute(self, image):
        time.sleep(5)
        type(self).finished.set()
        return "late"


def registry_with(*tool_classes):
    from loupe.tools.count import Count
    from loupe.tools.evaluate import Eval
    from loupe.tools.registry import ToolRegistry
    from loupe.tools.result import Result

    registry = ToolRegistry()
    for cls in (Count, Eval, Result, *tool_classes):
        registry.register(cls)
    return registry
