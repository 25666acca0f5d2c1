"""LIST uses the language model injected for the run (the planner's): never one written into the registry."""

import pytest

from fake_llm import FakeLLM
from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.tools.injected import LLM_KEY, injected
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings


def run_list(llm=None, **args):
    tool = default_registry(Settings.from_env(), plugins=False).tool("LIST")
    if llm is None:
        return tool.execute(**args)
    with injected({LLM_KEY: llm}):
        return tool.execute(**args)


def test_list_asks_the_llm_and_cleans_the_items():
    llm = FakeLLM().enqueue("1. John Lennon\n2. Paul McCartney\n- George Harrison\n* Ringo Starr\nPaul McCartney\n")
    items = run_list(llm, query="members of the Beatles", max=4)
    assert items == ("John Lennon", "Paul McCartney", "George Harrison", "Ringo Starr")
    assert "List 4 members of the Beatles" in llm.prompts[0]


def test_list_keeps_at_most_max_items():
    llm = FakeLLM().enqueue("red\norange\nyellow\ngreen")
    assert run_list(llm, query="colours of the rainbow", max=2) == ("red", "orange")


def test_list_without_an_llm_says_how_to_get_one():
    with pytest.raises(ToolUnavailable, match="LIST needs a language model"):
        run_list(query="planets", max=3)


def test_an_empty_reply_is_a_tool_error():
    with pytest.raises(ToolError, match="no list items"):
        run_list(FakeLLM().enqueue("\n\n"), query="planets", max=3)


def test_the_injected_llm_ends_with_its_block_and_reaches_the_interpreters_workers():
    from loupe.programs.interpreter import Interpreter

    registry = default_registry(Settings.from_env(), plugins=False)
    program = "L=LIST(query='planets',max=2)\nR=RESULT(var=L)"
    with injected({LLM_KEY: FakeLLM().enqueue("Mercury\nVenus")}):
        assert Interpreter(registry).run(program, {}).result == ("Mercury", "Venus")
    execution = Interpreter(registry).run(program, {})
    assert not execution.ok and "LIST needs a language model" in execution.errors[0]
