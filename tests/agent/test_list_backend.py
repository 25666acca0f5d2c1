"""LIST uses the planner's language model."""

import pytest

from fake_llm import FakeLLM
from programs.errors import ToolError, ToolUnavailable
from tools.registry import default_registry


def list_tool(llm=None):
    registry = default_registry(plugins=False)
    if llm is not None:
        from agent.list_backend import set_llm

        set_llm(registry.context, llm)
    return registry.tool("LIST")


def test_list_asks_the_llm_and_cleans_the_items():
    llm = FakeLLM().enqueue("1. John Lennon\n2. Paul McCartney\n- George Harrison\n* Ringo Starr\nPaul McCartney\n")
    items = list_tool(llm).execute(query="members of the Beatles", max=4)
    assert items == ("John Lennon", "Paul McCartney", "George Harrison", "Ringo Starr")
    assert "List 4 members of the Beatles" in llm.prompts[0]


def test_list_keeps_at_most_max_items():
    llm = FakeLLM().enqueue("red\norange\nyellow\ngreen")
    assert list_tool(llm).execute(query="colours of the rainbow", max=2) == ("red", "orange")


def test_list_without_an_llm_says_how_to_get_one():
    with pytest.raises(ToolUnavailable, match="LIST needs a language model"):
        list_tool().execute(query="planets", max=3)


def test_an_empty_reply_is_a_tool_error():
    with pytest.raises(ToolError, match="no list items"):
        list_tool(FakeLLM().enqueue("\n\n")).execute(query="planets", max=3)
