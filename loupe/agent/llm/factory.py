"""``make_llm``: one spec string (or object) -> an :class:`LLM`, through a small registry of providers.

Specs: ``"local"`` (embedded SmolLM2), ``"local:/path/model.gguf"`` or ``"local:/path/hf-folder"``,
``"openai:gpt-4o-mini"``, ``"ollama:llama3.2"``, ``"http://host:8000/v1"`` (model from ``Settings.llm_model``,
env ``LOUPE_LLM_MODEL``, else the server's first model), ``"oracle:FILE"`` (the evaluation's oracle programs,
``loupe.agent.evaluation.oracle``). ``None`` means ``Settings.llm`` (env ``LOUPE_LLM``, else ``"local"``): resolved
by :func:`resolve_llm_spec`, the one place that does it. The settings are always given by the caller (built
once by the entry point, ``Settings.from_env()``); nothing here reads the environment. An :class:`LLM` is returned
as is, and so is any other object with ``complete`` (a model in all but base class, e.g. the oracle); a
langchain-core ``BaseChatModel`` is wrapped. Keyword options go to the provider and are checked
there (unknown keys are errors). Built-in providers register through :func:`register_provider`, the same
path a plugin would use; a builder is called as ``builder(rest, options, settings)``.
"""

from __future__ import annotations

from collections.abc import Callable
import os
from typing import Any

from loupe.agent.llm.base import LLM, LLMError
from loupe.tools.settings import Settings

Builder = Callable[[str, dict[str, Any], Settings], LLM]
PROVIDERS: dict[str, Builder] = {}
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
NETWORK_SCHEMES = {"openai", "ollama"}  # providers over HTTP: they take timeout= and deadline= options
OLLAMA_URL = "http://localhost:11434/v1"


def register_provider(scheme: str, builder: Builder) -> None:
    """Make ``make_llm("<scheme>:<rest>")`` call ``builder(rest, options, settings)``."""
    if not scheme.isidentifier():
        raise ValueError(f"provider scheme must be an identifier, got {scheme!r}")
    PROVIDERS[scheme] = builder


def resolve_llm_spec(spec: str | None, settings: Settings) -> str:
    """``spec``, or when it is None or empty the settings' LLM (``$LOUPE_LLM``, else ``"local"``)."""
    if spec:
        return spec
    return _given(settings).llm


def make_llm(spec: Any = None, *, settings: Settings | None = None, **options: Any) -> LLM:
    """The model named by ``spec`` (see the module docstring); raises LLMError naming the valid specs.

    ``settings``: where defaults come from (the LLM, its model, keys, hosts, the cache folder); needed for
    every spec but a ready-made model (build them once: ``Settings.from_env()``)."""
    if isinstance(spec, LLM) or (not isinstance(spec, str) and spec is not None
                                 and callable(getattr(spec, "complete", None))):
        if options:
            raise LLMError(f"options {sorted(options)} given with a ready-made model",
                           provider=getattr(spec, "provider", "?"))
        return spec
    if not isinstance(spec, str) and spec is not None:  # a langchain chat model: no settings needed
        from loupe.agent.llm.langchain_provider import LangChainChat

        return LangChainChat(spec, **options)
    spec = resolve_llm_spec(spec, _given(settings))
    spec = spec.strip()
    if spec.startswith(("http://", "https://")):
        return _server(spec, options, settings)
    scheme, _, rest = spec.partition(":")
    builder = PROVIDERS.get(scheme)
    if builder is None:
        raise LLMError(f"unknown LLM spec {spec!r}",
                       hint="use 'local', 'openai:MODEL', 'ollama:MODEL', 'http://HOST:PORT/v1' or one of the "
                            f"registered providers: {', '.join(sorted(PROVIDERS))}")
    return builder(rest.strip(), options, settings)


def _given(settings: Settings | None) -> Settings:
    if not isinstance(settings, Settings):
        raise TypeError("make_llm/resolve_llm_spec need settings=Settings(...): the entry point builds them once "
                        "(Settings.from_env() reads the environment) and passes them down")
    return settings


def takes_network_options(spec: Any) -> bool:
    """Whether ``spec`` names a remote model that takes ``timeout``/``deadline`` options (a URL, openai:, ollama:)."""
    if not isinstance(spec, str):
        return False
    spec = spec.strip()
    return spec.startswith(("http://", "https://")) or spec.partition(":")[0] in NETWORK_SCHEMES


def _local(rest: str, options: dict[str, Any], settings: Settings) -> LLM:
    from loupe.agent.llm.local import MODEL_NAME, LocalLM

    if rest:
        options = {**options, ("gguf" if rest.lower().endswith(".gguf") else "folder"): rest}
    return LocalLM(MODEL_NAME if not rest else os.path.basename(rest.rstrip("/\\")), **options)


def _openai(rest: str, options: dict[str, Any], settings: Settings) -> LLM:
    from loupe.agent.llm.openai_provider import OpenAICompatible

    return OpenAICompatible(rest or settings.llm_model or DEFAULT_OPENAI_MODEL, provider="openai",
                            settings=settings, **options)


def _ollama(rest: str, options: dict[str, Any], settings: Settings) -> LLM:
    from loupe.agent.llm.openai_provider import OpenAICompatible

    host = settings.ollama_host
    default_url = (host if host.startswith("http") else f"http://{host}").rstrip("/") + "/v1" if host else OLLAMA_URL
    options = {"base_url": default_url, "api_key": "ollama", **options}
    return OpenAICompatible(rest or settings.llm_model or None, provider="ollama", settings=settings, **options)


def _server(url: str, options: dict[str, Any], settings: Settings) -> LLM:
    from loupe.agent.llm.openai_provider import OpenAICompatible

    return OpenAICompatible(settings.llm_model or None, provider="openai-compatible", settings=settings,
                            **{"base_url": url, **options})


def _oracle(rest: str, options: dict[str, Any], settings: Settings) -> LLM:
    """``oracle:FILE``: the programs of an oracle file, by benchmark item (``loupe.agent.evaluation.oracle``)."""
    from loupe.agent.evaluation.oracle import OracleLLM

    if options:
        raise LLMError(f"the oracle takes no options; got {sorted(options)}", provider="oracle")
    return OracleLLM.from_file(rest)


register_provider("local", _local)
register_provider("openai", _openai)
register_provider("ollama", _ollama)
register_provider("oracle", _oracle)
