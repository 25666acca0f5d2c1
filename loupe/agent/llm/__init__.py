"""Loupe's LLM layer: one interface (:class:`LLM`), three kinds of provider, one factory.

    from loupe.agent.llm import make_llm
    from loupe.tools.settings import Settings
    settings = Settings.from_env()     # once, where your program starts (LOUPE_LLM, OPENAI_API_KEY, ...)
    llm = make_llm("local", settings=settings)   # embedded SmolLM2-135M-Instruct (transformers, CPU, offline)
    llm = make_llm("openai:gpt-4o-mini", settings=settings)  # or "ollama:llama3.2", "http://host:8000/v1"
    llm.complete("Say hi", max_tokens=8).text
    llm.score("The animal that says meow is a", [" cat", " rocket"])   # log-likelihoods

Providers: ``local.py`` (transformers; constrained decoding; KV-cache scoring), ``openai_provider.py``
(any OpenAI-compatible server; echo+logprobs or multiple-choice scoring), ``langchain_provider.py``
(any langchain-core chat model; multiple-choice scoring). Importing this package imports no provider SDK.
"""

from loupe.agent.llm.base import FLOOR_LOGPROB, LLM, Completion, LLMError, Usage
from loupe.agent.llm.factory import make_llm, register_provider

__all__ = ["FLOOR_LOGPROB", "LLM", "Completion", "LLMError", "Usage", "make_llm", "register_provider"]
