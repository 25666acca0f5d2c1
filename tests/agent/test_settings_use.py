"""The agent reads its settings through tools.settings: $LOUPE_LLM resolved in one place, honoured by Agent,
the CLI's default and the service's default; the oracle is one more spec of the one LLM factory."""

import json

from loupe.agent.api import Agent
from loupe.agent.llm import LLM, Completion, make_llm
from loupe.agent.llm.factory import PROVIDERS, resolve_llm_spec
from loupe.agent.service.config import ServiceConfig
from loupe.tools.registry import ToolRegistry
from loupe.tools.settings import Settings


class Named(LLM):
    """A model that only has a name (never asked anything here)."""

    provider = "named"

    def _complete(self, prompt, system, max_tokens, stop, temperature, prefix_ok, raw=False):
        return Completion("", 0, 0, self.model, self.provider)


def test_agent_honours_loupe_llm_when_no_llm_is_given(monkeypatch):
    monkeypatch.setitem(PROVIDERS, "named", lambda rest, options, settings: Named(rest or "default"))
    monkeypatch.setenv("LOUPE_LLM", "named:from-env")
    with Agent(registry=ToolRegistry(), use_cache=False) as agent:
        assert agent.deps.llm.model == "from-env"
    with Agent(llm="named:given", registry=ToolRegistry(), use_cache=False) as agent:
        assert agent.deps.llm.model == "given"


def test_one_resolution_of_the_llm_spec(monkeypatch):
    monkeypatch.delenv("LOUPE_LLM", raising=False)
    env = Settings.from_env()
    assert resolve_llm_spec(None, env) == "local" and resolve_llm_spec("ollama:x", env) == "ollama:x"
    assert resolve_llm_spec(None, Settings(llm="openai:m")) == "openai:m"
    monkeypatch.setenv("LOUPE_LLM", "openai:from-env")
    monkeypatch.setenv("LOUPE_API_TOKEN", "s3cret")
    config = ServiceConfig.from_options(Settings.from_env())
    assert config.llms == ("openai:from-env",) and config.token == "s3cret"
    assert ServiceConfig.from_options(Settings()).llms == ("local",)


def test_the_oracle_is_a_spec_of_the_one_factory(tmp_path):
    path = tmp_path / "oracle.jsonl"
    path.write_text(json.dumps({"query": "how many dogs?", "program": "FINAL_RESULT=RESULT(var='2')"}) + "\n")
    oracle = make_llm(f"oracle:{path}", settings=Settings.from_env())
    assert oracle.scoring_method == "oracle" and make_llm(oracle) is oracle
    assert "RESULT(var='2')" in oracle.complete("Question: how many dogs?").text
