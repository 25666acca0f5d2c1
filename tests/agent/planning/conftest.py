"""Fixtures of the planning tests."""

from __future__ import annotations

import pytest

from loupe.agent.planning.rank_planner import RankPlanner
from loupe.agent.planning.retrieval import ExampleRetriever
from loupe.programs.examples_library import load_library
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
from tests.support.fake_llm import FakeLLM


@pytest.fixture(scope="module")
def ranked_program():
    """query -> the text of the ranking planner's best program (rules, retrieval and intent; no LM pass)."""
    planner = RankPlanner(FakeLLM(), default_registry(Settings.from_env(), plugins=False),
                          ExampleRetriever(load_library()))
    return lambda query: planner.rank(query, lm=False)[0].program
