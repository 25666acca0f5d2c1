"""Each planning mode end to end with the real embedded SmolLM2-135M and the lite models, on a real photo.

Needs `loupe models pull` (the lite pack and the embedded LLM); the tests skip with that command otherwise.
"""

import json
import re
from pathlib import Path

import pytest

from programs.images import load_image

PHOTOS = Path(__file__).parents[1] / "data" / "photos"


def _ready() -> bool:
    from agent.llm.embedded import gguf_path
    from tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


pytestmark = pytest.mark.skipif(not _ready(), reason="models not installed; run `loupe models pull`")


@pytest.fixture(scope="module")
def llm():
    from agent.llm import make_llm

    return make_llm("local")


def agent(llm, mode):
    from agent.api import Agent

    return Agent(llm=llm, mode=mode, use_cache=False)


def test_program_mode_counts_the_horses(llm):
    answer = agent(llm, "program").ask(load_image(PHOTOS / "horses.jpg"), "How many horses are there?")
    assert answer.ok, answer.errors
    assert re.search(r"LOC\(image=IMAGE,object='horses?'\)", answer.program) and "COUNT" in answer.program
    assert 3 <= int(answer.text) <= 5
    assert answer.llm_calls <= 1   # the ranking planner scores close contenders in one batched pass


def test_saycan_mode_chooses_loc_count_result(llm):
    answer = agent(llm, "saycan").ask(load_image(PHOTOS / "horses.jpg"), "How many horses are there?")
    assert answer.ok, answer.errors
    chosen = [step.chosen.split("=", 1)[1].split("(")[0] for step in answer.saycan.steps]
    assert chosen == ["LOC", "COUNT", "RESULT"]
    assert 3 <= int(answer.text) <= 5
    first = answer.saycan.steps[0]
    assert len(first.candidates) >= 6 and first.chosen == max(first.candidates, key=lambda c: c.combined).text


def test_task_mode_output_is_always_a_well_formed_task_list(llm):
    from agent.planner import TaskPlanner
    from agent.retrieval import ExampleRetriever
    from programs.examples_library import load_library
    from tools.registry import default_registry

    registry = default_registry(plugins=False)
    planner = TaskPlanner(llm, registry, ExampleRetriever([e for e in load_library() if e.tasks]), examples_k=3,
                          max_tokens=160)
    draft = planner.draft("How many horses are there?")
    constraint = planner.constraint("", False)
    # constrained decoding: the reply is a valid beginning of a task list (or all of one)
    assert constraint(draft.reply.strip()) is True
    if constraint.is_complete(draft.reply.strip()):
        tasks = json.loads(draft.reply)
        assert all(set(task) <= {"task", "id", "dep", "args"} for task in tasks)
