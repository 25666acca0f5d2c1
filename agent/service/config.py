"""The service's settings: where it listens, which LLMs a client may choose, and every limit."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of one ``loupe serve`` / ``loupe mcp`` process.

    ``llms``: the LLM specs a client may name (the first is the default); a client can never name any
    other, so it can never make the server open a model file of its choosing. ``allow_dirs``: the only
    folders whose files a client may name by path. Sizes are bytes, times seconds.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    llms: tuple[str, ...] = ("local",)
    allow_dirs: tuple[Path, ...] = ()
    token: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    max_megapixels: float = 40.0
    result_ttl_s: float = 3600.0
    max_results: int = 200          # finished runs kept (with their images) until they expire
    workers: int = 64               # runs in progress at once (runs waiting on a person included)
    max_queue: int = 256            # runs admitted beyond the workers, waiting for one
    request_timeout_s: float = 120.0
    step_timeout_s: float = 60.0
    approval_timeout_s: float = 600.0
    batch_window_s: float = 0.01    # how long a tool call waits for calls of other requests to batch with
    max_batch: int = 32
    use_cache: bool = True
    cache_path: Path | None = None

    @classmethod
    def from_options(cls, llms=(), allow_dirs=(), **options) -> "ServiceConfig":
        """A config from CLI options; the token comes from ``$LOUPE_API_TOKEN`` unless given."""
        options.setdefault("token", os.environ.get("LOUPE_API_TOKEN") or None)
        llms = tuple(llms) or (os.environ.get("LOUPE_LLM") or "local",)
        dirs = tuple(Path(d).expanduser().resolve() for d in allow_dirs)
        return cls(llms=llms, allow_dirs=dirs, **{k: v for k, v in options.items() if v is not None or k == "token"})

    @property
    def default_llm(self) -> str:
        return self.llms[0]
