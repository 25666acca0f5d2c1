"""LOC owns its semantics (name checks, region words); a backend only computes boxes."""

import numpy as np
import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.backends import BackendSpec
from loupe.tools.context import ToolContext
from loupe.tools.loc import Loc, region
from loupe.tools.registry import ToolRegistry

CALLS: list = []


class Recording:
    """A backend that records what reaches it and finds one 'dog' box."""

    def __init__(self, context):
        pass

    def run_batch(self, calls):
        CALLS.extend(c["object"] for c in calls)
        return [Objects((Obj((1, 1, 4, 4), "dog", 0.9),), c["image"].size) for c in calls]


def loc_tool() -> Loc:
    context = ToolContext()
    context.add_backend(BackendSpec("LOC", "recording", f"{__name__}:Recording"))
    registry = ToolRegistry(context)
    registry.register(Loc)
    return registry.tool("LOC")


def test_region_words_and_bad_names_never_reach_the_backend():
    CALLS.clear()
    image = Image(np.zeros((40, 100, 3), np.uint8))
    dog, left, bottom, empty, other = loc_tool().execute_batch([
        {"image": image, "object": "dog"}, {"image": image, "object": "LEFT"},
        {"image": image, "object": " bottom "}, {"image": image, "object": "  "},
        {"image": image, "object": 3}])
    assert CALLS == ["dog"]
    assert dog.labels == ("dog",) and dog.sought == "dog"
    assert left.boxes.tolist() == [[0, 0, 50, 40]] and left.labels == ("LEFT",)
    assert bottom.boxes.tolist() == [[0, 20, 100, 40]]
    for bad in (empty, other):
        assert isinstance(bad, ToolError) and "non-empty object name" in str(bad)


def test_one_call_follows_the_same_rules():
    image = Image(np.zeros((10, 20, 3), np.uint8))
    assert loc_tool().execute(image=image, object="TOP").boxes.tolist() == [[0, 0, 20, 5]]
    with pytest.raises(ToolError, match="non-empty object name"):
        loc_tool().execute(image=image, object="")
    assert region(image, "right").boxes.tolist() == [[10, 0, 20, 10]]


def test_region_words_are_afforded_without_any_backend():
    registry = ToolRegistry(ToolContext())
    registry.register(Loc)
    assert registry.tool("LOC").affordance({"object": "TOP"}) == 1.0
    assert registry.tool("LOC").affordance({"object": "dog"}) == 0.0
