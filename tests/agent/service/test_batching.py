"""Cross-request batching: calls of one tool from many threads share one ``execute_batch``; each thread
gets its own results; equal photos become one image object; a lone request does not wait."""

import threading

import numpy as np

from loupe.agent.service.batching import Coalescer, CoalescingRegistry
from loupe.programs.values import Image
from loupe.tools.base import Param, Tool
from loupe.programs.values import ValueType
from loupe.tools.settings import Settings


class Recorder(Tool):
    """Echoes each call's tag with the id of the image object it was given; records every batch."""

    name = "ECHO"
    description = "Test tool that echoes its tag and records the batches it was given."
    inputs = {"image": Param(ValueType.IMAGE), "tag": Param(ValueType.TEXT)}
    output = ValueType.TEXT

    def __init__(self, context=None):
        super().__init__(context)
        self.seen = []

    def execute_batch(self, calls):
        self.seen.append(calls)
        return [f"{c['tag']}@{id(c['image'])}" for c in calls]


def _photo(value: int) -> Image:
    return Image(np.full((8, 8, 3), value, np.uint8))


def _in_threads(count, work):
    results = [None] * count
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, work(i))) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_calls_from_many_threads_share_one_batch_and_each_gets_its_own_results():
    tool = Recorder()
    coalescer = Coalescer(window_s=30.0, max_batch=8)  # the batch runs when full: no timing involved
    results = _in_threads(8, lambda i: coalescer.run(tool, [{"image": _photo(i), "tag": f"request-{i}"}]))
    assert [len(b) for b in tool.seen] == [8]
    assert [r[0].split("@")[0] for r in results] == [f"request-{i}" for i in range(8)]
    assert coalescer.stats.batches == 1 and coalescer.stats.requests == 8 and coalescer.stats.calls == 8


def test_equal_photos_from_different_requests_become_one_image_object():
    tool = Recorder()
    coalescer = Coalescer(window_s=30.0, max_batch=6)
    results = _in_threads(6, lambda i: coalescer.run(tool, [{"image": _photo(i % 2), "tag": str(i)}]))
    objects = {r[0].split("@")[1] for r in results}
    assert len(objects) == 2  # two distinct photos, six requests
    assert {r[0].split("@")[1] for r in results[0::2]} != {r[0].split("@")[1] for r in results[1::2]}


def test_a_lone_request_is_dispatched_without_waiting_for_the_window():
    tool = Recorder()
    coalescer = Coalescer(window_s=3600.0, max_batch=8, busy=lambda: False)
    assert coalescer.run(tool, [{"image": _photo(1), "tag": "alone"}])[0].startswith("alone@")


def test_a_crashing_batch_fails_each_of_its_calls():
    class Crash(Recorder):
        def execute_batch(self, calls):
            raise RuntimeError("model crashed")

    results = Coalescer(window_s=0.0).run(Crash(), [{"image": _photo(1), "tag": "a"}, {"image": _photo(2), "tag": "b"}])
    assert [str(r) for r in results] == ["model crashed", "model crashed"]


def test_the_registry_coalesces_batching_tools_only():
    from loupe.tools.registry import default_registry

    registry = CoalescingRegistry(default_registry(Settings.from_env(), plugins=False), Coalescer())
    registry.register(Recorder)
    assert type(registry.tool("ECHO")).__name__ == "_CoalescedTool" and registry.tool("ECHO").name == "ECHO"
    assert registry.tool("COUNT")._coalescer is None  # cheap tools run inline, as before (the run's check first)
    assert registry.names() == sorted(registry.names()) and "LOC" in registry
