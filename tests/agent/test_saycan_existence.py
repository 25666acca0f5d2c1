"""SayCan runs a program a step at a time, so a COUNT runs before the EVAL that reads it: when the EVAL
only tests the count for zero and the counting tool declares ``Tool.existence_input`` (counting the faint
objects, ``Objects.faint``, there), the COUNT runs again as a whole program runs it and the trace shows that
count. The lite tier's COUNT no longer declares it (issue 23's calibration); a stand-in COUNT does here. A
scripted LLM and a stand-in LOC."""

from __future__ import annotations

from fakes import SlowLoc
from loupe.programs.values import Obj, Objects
from tests.support.fake_llm import FakeLLM
from loupe.tools.count import Count
from loupe.tools.settings import Settings

QUESTION = "Are there both a kite and a surfboard?"  # written for this test, not a benchmark question


class ExistenceCount(Count):
    """COUNT that counts faint objects where its number is only tested for zero."""

    existence_input = "faint"

    def execute(self, box, faint=False):
        return len(box) + (len(box.faint) if faint else 0)


class FaintSurfboardLoc(SlowLoc):
    """Finds one kite for sure and one surfboard only faintly."""

    delay = 0.0

    def execute(self, image, object):
        found = (Obj((0, 0, 4, 4), object),)
        return Objects(found, image.size) if object == "kite" else Objects((), image.size, faint=found)


def test_saycan_counts_faint_objects_where_its_eval_only_tests_for_zero(photo, tmp_path):
    from loupe.agent.api import Agent
    from loupe.tools.registry import default_registry

    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(FaintSurfboardLoc)
    registry.register(ExistenceCount)
    llm = FakeLLM(scorer=lambda prompt, continuation: -1.0)
    agent = Agent(llm=llm, registry=registry, cache_path=tmp_path / "c.sqlite", use_cache=False, mode="saycan")
    answer = agent.ask(photo, QUESTION)
    assert answer.ok and answer.text == "yes", answer.errors
    program = answer.saycan.execution.program
    counts = {s.output: s.args[0].value.name for s in program.steps if s.module == "COUNT"}
    located = {s.output: s.args[1].value for s in program.steps if s.module == "LOC"}
    by_object = {located[box]: answer.saycan.execution.record(out).value for out, box in counts.items()}
    assert by_object == {"kite": 1, "surfboard": 1}
    chosen = {s.record.output: s.record.value for s in answer.saycan.steps if s.record is not None}
    assert all(chosen[out] == 1 for out in counts)  # the steps' records show the count the EVAL used
