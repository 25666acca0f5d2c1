"""``make_llm``: one spec string (or object) -> an :class:`LLM`, through a small registry of providers.

Specs: ``"local"`` (embedded SmolLM2), ``"local:/path/model.gguf"`` or ``"local:/path/hf-folder"``,
``"openai:gpt-4o-mini"``, ``"ollama:llama3.2"``, ``"http://host:8000/v1"`` (model from ``LOUPE_LLM_MODEL``,
else the server's first model). ``None`` means ``$LOUPE_LLM``, else ``"local"``. An :class:`LLM` is returned
as is; a langchain-core ``BaseChatModel`` is wrapped. Keyword options go to the provider and are checked
there (unknown keys are errors). Built-in providers register through :func:`register_provider`, the same
path a plugin would use.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from agent.llm.base import LLM, LLMError

Builder = Callable[[str, dict[str, Any]], LLM]
PROVIDERS: dict[str, Builder] = {}
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
NETWORK_SCHEMES = {"openai", "ollama"}  # providers over HTTP: they take timeout= and deadline= options
OLLAMA_URL = "http://localhost:11434/v1"


def register_provider(scheme: str, builder: Builder) -> None:
    """Make ``make_llm("<scheme>:<rest>")`` call ``builder(rest, options)``."""
    if not scheme.isidentifier():
        raise ValueError(f"provider scheme must be an identifier, got {scheme!r}")
    PROVIDERS[scheme] = builder


def make_llm(spec: Any = None, **options: Any) -> LLM:
    """The model named by ``spec`` (see the module docstring); raises LLMError naming the valid specs."""
    if isinstance(spec, LLM):
        if options:
            raise LLMError(f"options {sorted(options)} given with a ready-made model", provider=spec.provider)
        return spec
    if spec is None:
        spec = os.environ.get("LOUPE_LLM") or "local"
    if not isinstance(spec, str):
        from agent.llm.langchain_provider import LangChainChat

        return LangChainChat(spec, **options)
    spec = spec.strip()
    if spec.startswith(("http://", "https://")):
        return _server(spec, options)
    scheme, _, rest = spec.partition(":")
    builder = PROVIDERS.get(scheme)
    if builder is None:
        raise LLMError(f"unknown LLM spec {spec!r}",
                       hint="use 'local', 'openai:MODEL', 'ollama:MODEL', 'http://HOST:PORT/v1' or one of the "
                            f"registered providers: {', '.join(sorted(PROVIDERS))}")
    return builder(rest.strip(), options)


def takes_network_options(spec: Any) -> bool:
    """Whether ``spec`` names a remote model that takes ``timeout``/``deadline`` options (a URL, openai:, ollama:)."""
    if not isinstance(spec, str):
        return False
    spec = spec.strip()
    return spec.startswith(("http://", "https://")) or spec.partition(":")[0] in NETWORK_SCHEMES


def _local(rest: str, options: dict[str, Any]) -> LLM:
    from agent.llm.local import MODEL_NAME, LocalLM

    if rest:
        options = {**options, ("gguf" if rest.lower().endswith(".gguf") else "folder"): rest}
    return LocalLM(MODEL_NAME if not rest else os.path.basename(rest.rstrip("/\\")), **options)


def _openai(rest: str, options: dict[str, Any]) -> LLM:
    from agent.llm.openai_provider import OpenAICompatible

    return OpenAICompatible(rest or os.environ.get("LOUPE_LLM_MODEL") or DEFAULT_OPENAI_MODEL, provider="openai",
                            **options)


def _ollama(rest: str, options: dict[str, Any]) -> LLM:
    from agent.llm.openai_provider import OpenAICompatible

    host = os.environ.get("OLLAMA_HOST")
    default_url = (host if host.startswith("http") else f"http://{host}").rstrip("/") + "/v1" if host else OLLAMA_URL
    options = {"base_url": default_url, "api_key": "ollama", **options}
    return OpenAICompatible(rest or os.environ.get("LOUPE_LLM_MODEL") or None, provider="ollama", **options)


def _server(url: str, options: dict[str, Any]) -> LLM:
    from agent.llm.openai_provider import OpenAICompatible

    return OpenAICompatible(os.environ.get("LOUPE_LLM_MODEL") or None, provider="openai-compatible",
                            **{"base_url": url, **options})


register_provider("local", _local)
register_provider("openai", _openai)
register_provider("ollama", _ollama)
