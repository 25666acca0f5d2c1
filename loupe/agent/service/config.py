"""The service's settings: where it listens, which LLMs a client may choose, and every limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loupe.tools.settings import Settings
from loupe.tools.video import VideoLimits


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of one ``loupe serve`` / ``loupe mcp`` process.

    ``llms``: the LLM specs a client may name (the first is the default); a client can never name any
    other, so it can never make the server open a model file of its choosing. ``allow_dirs``: the only
    folders whose files a client may name by path. Sizes are bytes, times seconds.

    ``allowed_hosts``: the names a request's Host (and Origin, when sent) may carry, on every route
    (DNS rebinding); empty means the loopback names plus ``host`` when it is a specific address; ``"*"``
    allows any. ``require_approval``: every edit, on every route (asks, conversation turns, videos,
    ``/v1/run``, MCP), waits for a person's approval of its exact program; a client cannot turn it off (it
    may still ask for approval when this is off). ``max_pending_approvals``: edits waiting for a person at
    once (each keeps a thread, but no worker); ``max_pending_approvals_per_client``: edits one client address
    may have waiting at once (a new run that may need approval gets 429; an edit past it is not run).

    ``max_video_upload_bytes``: an uploaded video (its own cap: a video is far larger than a photo; 200 MiB
    holds about three minutes of 1080p H.264 at 8 Mbit/s, more than a CPU analyses within the default
    ``request_timeout_s``). ``video_limits``: what a video (uploaded or named) may be, as ``loupe ask`` checks
    it (``loupe.tools.video.VideoLimits``: duration, pixels a frame, frames, bytes on disk).
    """

    host: str = "127.0.0.1"
    port: int = 8765
    llms: tuple[str, ...] = ("local",)
    allow_dirs: tuple[Path, ...] = ()
    token: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    max_megapixels: float = 40.0
    max_video_upload_bytes: int = 200 * 1024 * 1024
    video_limits: VideoLimits = field(default_factory=VideoLimits)
    result_ttl_s: float = 3600.0
    max_results: int = 200          # finished runs kept (with their images) until they expire
    workers: int = 64               # runs in progress at once (runs waiting on a person included)
    max_queue: int = 256            # runs admitted beyond the workers, waiting for one
    request_timeout_s: float = 120.0
    step_timeout_s: float = 60.0
    require_approval: bool = False      # every edit waits for a person (``--require-approval``)
    approval_timeout_s: float = 600.0   # an undecided approval expires (the edit is not run)
    max_pending_approvals: int = 64
    max_pending_approvals_per_client: int = 16
    allowed_hosts: tuple[str, ...] = ()
    batch_window_s: float = 0.01    # how long a tool call waits for calls of other requests to batch with
    max_batch: int = 32
    use_cache: bool = True
    cache_path: Path | None = None
    #: everything read from the environment, once, by ``loupe serve`` / ``loupe mcp`` (tools, LLMs, cache);
    #: a config built in code gets the defaults (nothing read)
    settings: Settings = field(default_factory=Settings, repr=False, compare=False)

    @classmethod
    def from_options(cls, settings: Settings, llms=(), allow_dirs=(), **options) -> "ServiceConfig":
        """A config from CLI options; the token (``$LOUPE_API_TOKEN``) and the default LLM (``$LOUPE_LLM``)
        come from ``settings`` (built once by the command, ``Settings.from_env()``) unless given; approval is
        required when the option or ``$LOUPE_REQUIRE_APPROVAL`` says so (an option cannot lift the variable's)."""
        from loupe.agent.llm.factory import resolve_llm_spec

        if not isinstance(settings, Settings):
            raise TypeError("ServiceConfig.from_options needs the Settings the command built (Settings.from_env())")
        options.setdefault("token", settings.api_token or None)
        options["require_approval"] = bool(options.get("require_approval")) or settings.require_approval
        llms = tuple(llms) or (resolve_llm_spec(None, settings),)
        dirs = tuple(Path(d).expanduser().resolve() for d in allow_dirs)
        return cls(llms=llms, allow_dirs=dirs, settings=settings,
                   **{k: v for k, v in options.items() if v is not None or k == "token"})

    @property
    def default_llm(self) -> str:
        return self.llms[0]

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """The Host names this server answers to (see ``allowed_hosts``)."""
        if self.allowed_hosts:
            return tuple(h.lower() for h in self.allowed_hosts)
        hosts = list(LOOPBACK_NAMES)
        if self.host.lower() not in hosts and self.host not in WILDCARD_ADDRESSES:
            hosts.append(self.host.lower())
        return tuple(hosts)


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
