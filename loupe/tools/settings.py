"""Loupe's settings: one typed object holding everything read from the environment, passed explicitly.

``Settings(...)`` is exactly what you give (plus defaults) and reads nothing; ``Settings.from_env()``
reads the environment once (``LOUPE_*`` variables, and the few foreign ones Loupe honours:
``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OLLAMA_HOST``, ``HF_HUB_OFFLINE``, ``YOLO_CONFIG_DIR``,
``XDG_CONFIG_HOME``). This module is the only place in the package that reads ``os.environ``
(a test greps for it). Both ``tools`` and ``agent`` import it; it imports nothing of Loupe's.

Environment -> field: ``LOUPE_BACKEND_<TOOL>=name`` -> ``backends[TOOL]``; ``LOUPE_DEVICE``,
``LOUPE_DTYPE``, ``LOUPE_GPU_TIER``, ``LOUPE_GPU_BUDGET_GB``, ``LOUPE_EVICT``, ``LOUPE_CACHE_DIR``,
``LOUPE_LLM``, ``LOUPE_LLM_MODEL``, ``LOUPE_VLM``, ``LOUPE_PLUGINS`` (comma-separated ``module:function``),
``LOUPE_API_TOKEN``, ``LOUPE_REQUIRE_APPROVAL`` -> the field of that name. Every other ``LOUPE_<KEY>`` (model
paths such as ``LOUPE_OWLV2_MODEL``, backend knobs such as ``LOUPE_YOLO_THRESHOLD``) is a backend option, looked
up by :meth:`Settings.option` with the key's env name (:func:`env_name`: ``"owlv2.model"`` -> ``OWLV2_MODEL``).
"""

from __future__ import annotations

from contextvars import ContextVar
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

PREFIX = "LOUPE_"
BACKEND_PREFIX = PREFIX + "BACKEND_"
AUTO = "auto"
_TRUE = ("1", "true", "yes", "on")
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("loupe_environ", default=None)


def env_name(key: str, prefix: str = PREFIX) -> str:
    """The environment variable of option ``key``: ``"grounding_dino.model"`` -> ``LOUPE_GROUNDING_DINO_MODEL``."""
    return prefix + key.upper().replace(".", "_").replace("-", "_")


def _foreign(name: str, env: str):
    """A field read from a variable without Loupe's prefix (given by its field name when built in code)."""
    return AliasChoices(name, env)


class Settings(BaseSettings):
    """Backends per tool (``{"LOC": "owlv2"}``; missing or ``auto`` picks the best available), device
    (``auto``/``cpu``/``cuda``/``mps``), dtype (``auto``/``fp32``/``fp16``/``bf16``), GPU tier rule
    (``auto``/``on``/``off``, docs/gpu.md), GPU memory budget in GiB, eviction (``cpu``/``drop``), free-form
    backend ``options`` (``{"owlv2.model": "/path"}``), the cache folder, the LLM spec (a string the agent
    interprets: ``local``, ``openai:MODEL``, a URL...), plugins, the service's API token and whether the
    service makes every edit wait for a person's approval (``require_approval``; ``loupe serve`` reads it)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid", populate_by_name=True,
                                      case_sensitive=False, env_ignore_empty=True)

    backends: Mapping[str, str] = Field(default_factory=dict)
    device: str = AUTO
    dtype: str = AUTO
    gpu_tier: Literal["auto", "on", "off"] = AUTO
    gpu_budget_gb: float | None = None
    evict: Literal["cpu", "drop"] | None = None
    options: Mapping[str, Any] = Field(default_factory=dict)
    cache_dir: Path | None = None
    llm: str = "local"
    llm_model: str | None = None
    vlm: str | None = None   # a multimodal model for VQA and CAPTION (``loupe.tools.vlm``): ollama:MODEL, openai:MODEL, URL
    plugins: Annotated[tuple[str, ...], NoDecode] = ()
    api_token: str | None = None
    require_approval: bool = False
    openai_api_key: str | None = Field(None, validation_alias=_foreign("openai_api_key", "OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_foreign("openai_base_url", "OPENAI_BASE_URL"))
    ollama_host: str | None = Field(None, validation_alias=_foreign("ollama_host", "OLLAMA_HOST"))
    hf_hub_offline: bool = Field(False, validation_alias=_foreign("hf_hub_offline", "HF_HUB_OFFLINE"))
    yolo_config_dir: Path | None = Field(None, validation_alias=_foreign("yolo_config_dir", "YOLO_CONFIG_DIR"))
    xdg_config_home: Path | None = Field(None, validation_alias=_foreign("xdg_config_home", "XDG_CONFIG_HOME"))
    #: every other ``LOUPE_*`` variable, by its name (``LOUPE_OWLV2_MODEL``): options given by environment
    env_options: Mapping[str, str] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """The settings of ``environ`` (default: this process's environment); ``overrides`` win."""
        environ = dict(os.environ if environ is None else environ)
        upper = {k.upper(): v for k, v in environ.items() if v}
        backends = {k[len(BACKEND_PREFIX):]: v for k, v in upper.items() if k.startswith(BACKEND_PREFIX)}
        fields = {env_name(name) for name in cls.model_fields}
        options = {k: v for k, v in upper.items()
                   if k.startswith(PREFIX) and not k.startswith(BACKEND_PREFIX) and k not in fields}
        token = _ENVIRON.set(environ)
        try:
            return cls(**{"backends": backends, "env_options": options, **overrides})
        finally:
            _ENVIRON.reset(token)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """Only what is given, plus the environment while :meth:`from_env` runs (never implicitly)."""
        environ = _ENVIRON.get()
        return (init_settings,) if environ is None else (init_settings, _MappingEnv(settings_cls, environ))

    @field_validator("backends", mode="after")
    @classmethod
    def _tool_names(cls, value: Mapping[str, str]) -> dict[str, str]:
        return {tool.upper(): name for tool, name in value.items()}

    @field_validator("gpu_tier", "device", "dtype", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("plugins", mode="before")
    @classmethod
    def _split(cls, value):
        return tuple(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else value

    @field_validator("hf_hub_offline", "require_approval", mode="before")
    @classmethod
    def _flag(cls, value):
        return value.strip().lower() in _TRUE if isinstance(value, str) else value

    def option(self, key: str, default: Any = None) -> Any:
        """A backend option: ``options[key]``, else the variable ``LOUPE_<KEY>`` (:func:`env_name`), else default."""
        if key in self.options:
            return self.options[key]
        return self.env_options.get(env_name(key), default)

    def backend_for(self, tool: str) -> str:
        """The backend chosen for ``tool`` (``auto`` when none is)."""
        return self.backends.get(tool.upper(), AUTO) or AUTO

    def cache_root(self) -> Path:
        """Loupe's cache folder: ``cache_dir`` when set, else the platform's user cache for "loupe"."""
        if self.cache_dir is not None:
            return Path(self.cache_dir).expanduser()
        import platformdirs

        return Path(platformdirs.user_cache_dir("loupe"))

    def with_(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` (validated like the constructor's arguments)."""
        return type(self)(**{**self.model_dump(), **changes})


def cache_root(settings: Settings | None = None) -> Path:
    """Loupe's cache folder under ``settings``. Without settings it reads the environment: a fallback
    that remains only for the model files' helpers (``loupe.tools.lite.pack``, ``loupe.agent.llm.embedded``/``local``)
    and the program cache's ``default_cache_path``; entry points pass ``settings.cache_root()`` instead."""
    return (settings if settings is not None else Settings.from_env()).cache_root()


class _MappingEnv(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items() if v != ""}
