"""The langchain adapter with langchain-core's own fake chat models."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from loupe.agent.llm import FLOOR_LOGPROB, LLMError, make_llm
from loupe.agent.llm.langchain_provider import LangChainChat


def test_complete_returns_the_chat_models_reply_cut_at_stop():
    llm = make_llm(FakeListChatModel(responses=["BOX0=LOC(image=IMAGE,object='tie')\nEND\nmore"]))
    assert isinstance(llm, LangChainChat) and llm.provider == "langchain"
    c = llm.complete("find the tie", system="You write programs.", stop=["END"])
    assert c.text == "BOX0=LOC(image=IMAGE,object='tie')\n"
    assert llm.usage.calls == 1 and llm.supports_constraints is False


def test_usage_metadata_is_counted():
    reply = AIMessage("hi", usage_metadata={"input_tokens": 7, "output_tokens": 2, "total_tokens": 9})
    llm = make_llm(GenericFakeChatModel(messages=iter([reply])))
    c = llm.complete("hello")
    assert (c.prompt_tokens, c.completion_tokens) == (7, 2)
    assert llm.usage.as_dict() == {"calls": 1, "prompt_tokens": 7, "completion_tokens": 2}


def test_empty_reply_is_retried():
    sleeps = []
    llm = LangChainChat(FakeListChatModel(responses=["", "ok"]), sleep=sleeps.append)
    assert llm.complete("hello").text == "ok"
    assert sleeps == [0.5]


class Flaky(FakeListChatModel):
    failures: list  # a pydantic field, set per instance

    def _call(self, *args, **kwargs):
        if self.failures:
            raise self.failures.pop(0)
        return super()._call(*args, **kwargs)


def test_transient_errors_are_retried_and_others_are_not():
    sleeps = []
    llm = LangChainChat(Flaky(responses=["ok"], failures=[TimeoutError("slow"), ConnectionError("down")]),
                        sleep=sleeps.append)
    assert llm.complete("hello").text == "ok"
    assert sleeps == [0.5, 1.0]
    broken = LangChainChat(Flaky(responses=["ok"], failures=[ValueError("bad request")]), sleep=sleeps.append)
    with pytest.raises(LLMError, match="langchain.*ValueError: bad request"):
        broken.complete("hello")
    assert sleeps == [0.5, 1.0]


def test_multiple_choice_scoring_reads_top_logprobs_or_the_answer():
    top = {"content": [{"token": "1", "logprob": -0.2,
                        "top_logprobs": [{"token": "1", "logprob": -0.2}, {"token": "2", "logprob": -1.9}]}]}
    llm = make_llm(GenericFakeChatModel(messages=iter([AIMessage("1", response_metadata={"logprobs": top}),
                                                       AIMessage("2")])))
    assert llm.scoring_method == "multiple-choice"
    assert llm.score("The animal that says meow is a", [" cat", " rocket", " tree"]) == [-0.2, -1.9, FLOOR_LOGPROB]
    assert llm.score("x", [" a", " b"]) == [FLOOR_LOGPROB, 0.0]


def test_rejects_things_that_are_not_chat_models():
    with pytest.raises(LLMError, match="expected a langchain_core BaseChatModel, got int"):
        make_llm(42)
