"""``loupe serve`` and ``loupe mcp``: the service's commands (added to ``loupe.agent.cli``'s group).

These are entry points: the settings come from the group (``loupe.agent.cli.settings_of``: read from the
environment once per process) and go down through ``ServiceConfig.settings`` to the engine, its tools and LLMs."""

from __future__ import annotations

from pathlib import Path

import click

_LLM_HELP = ("An LLM clients may choose (repeat for several; the first is the default): local | openai:MODEL | "
             "ollama:MODEL | URL | oracle:PROGRAMS.jsonl (default: $LOUPE_LLM or local).")


def _common(command):
    for option in reversed([
        click.option("--llm", "llms", multiple=True, help=_LLM_HELP),
        click.option("--allow-dir", "allow_dirs", multiple=True, type=click.Path(file_okay=False, exists=True),
                     help="A folder whose files clients may name by path (repeatable; default: none)."),
        click.option("--max-upload-mb", default=20.0, show_default=True, help="Largest image accepted, in MB."),
        click.option("--max-video-upload-mb", default=200.0, show_default=True,
                     help="Largest uploaded video accepted, in MB (its length, size and frames are limited too)."),
        click.option("--max-megapixels", default=40.0, show_default=True, help="Largest image accepted, in pixels."),
        click.option("--timeout", "request_timeout_s", default=120.0, show_default=True,
                     help="Time limit of one request, in seconds."),
        click.option("--no-cache", is_flag=True, help="Always plan with the LLM (no program cache)."),
    ]):
        command = option(command)
    return command


def _config(llms, allow_dirs, max_upload_mb, max_video_upload_mb, max_megapixels, request_timeout_s, no_cache,
            **more):
    from loupe.agent.cli import settings_of
    from loupe.agent.service.config import ServiceConfig

    return ServiceConfig.from_options(settings_of(click.get_current_context()), llms, allow_dirs,
                                      max_upload_bytes=int(max_upload_mb * 1024 * 1024),
                                      max_video_upload_bytes=int(max_video_upload_mb * 1024 * 1024),
                                      max_megapixels=max_megapixels, request_timeout_s=request_timeout_s,
                                      use_cache=not no_cache, **more)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only; set LOUPE_API_TOKEN before opening it up).")
@click.option("--port", default=8765, show_default=True)
@_common
@click.option("--workers", default=64, show_default=True, help="Runs in progress at once.")
@click.option("--queue", "max_queue", default=256, show_default=True,
              help="Runs waiting beyond the workers; more get 503 with Retry-After.")
@click.option("--batch-window-ms", default=10.0, show_default=True,
              help="How long a tool call waits for other requests' calls to batch with (0: no wait).")
@click.option("--no-warm", is_flag=True, help="Load models on first use instead of at start.")
@click.option("--allowed-host", "allowed_hosts", multiple=True,
              help="A Host name clients may reach this server by (repeatable; '*.example.com' patterns; '*': any). "
                   "Default: the loopback names and --host. Requests naming another host (DNS rebinding) get 403.")
@click.option("--approval-timeout", "approval_timeout_s", default=600.0, show_default=True,
              help="Seconds an edit waits for approval before it expires (not run).")
@click.option("--require-approval", is_flag=True,
              help="Every edit, on every route and whatever the client sends, waits for a person to approve its "
                   "exact program (also $LOUPE_REQUIRE_APPROVAL=1). Questions never wait.")
def serve(host, port, workers, max_queue, batch_window_ms, no_warm, allowed_hosts, approval_timeout_s,
          require_approval, **common):
    """Serve the HTTP API (/v1, docs at /docs), the web page (/) and MCP (/mcp) from one warm process."""
    import logging

    import uvicorn

    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    config = _config(host=host, port=port, workers=workers, max_queue=max_queue,
                     batch_window_s=batch_window_ms / 1000, allowed_hosts=tuple(allowed_hosts),
                     approval_timeout_s=approval_timeout_s, require_approval=require_approval, **common)
    if host not in ("127.0.0.1", "localhost", "::1") and not config.token:
        click.echo(f"warning: listening on {host} with no LOUPE_API_TOKEN: anyone who can reach it can use it",
                   err=True)
    if host in ("0.0.0.0", "::") and not allowed_hosts:
        click.echo("note: only requests naming a loopback host are answered; add --allowed-host NAME for each "
                   "name or address clients use", err=True)
    logging.getLogger("mcp").setLevel(logging.WARNING)  # no INFO line per MCP session
    engine = Engine(config)
    if not no_warm:
        click.echo("loading models ...", err=True)
        engine.warm_up()
    approval = "; every edit waits for approval" if config.require_approval else ""
    click.echo(f"Loupe on http://{host}:{port}/ (API docs: /docs, MCP: /mcp){approval}", err=True)
    uvicorn.run(create_app(engine=engine), host=host, port=port, log_level="warning")


@click.command()
@_common
@click.option("--print-config", type=click.Choice(["claude", "cursor"]),
              help="Print the JSON that makes Claude Desktop or Cursor start this server (with this install's "
                   "absolute path and these options) instead of serving.")
def mcp(print_config, **common):
    """Serve the MCP tools (ask, decide_edit, run_program, check_program, list_tools) over stdio."""
    import contextlib
    import json
    import sys

    if print_config:
        from loupe.agent.cli_io import out
        from loupe.agent.service.mcp_server import CLIENTS, client_config

        out(json.dumps(client_config(_given_options(click.get_current_context())), indent=2))
        click.echo(f"Add it to the config of {CLIENTS[print_config]}.", err=True)
        return
    from loupe.agent.service.engine import Engine
    from loupe.agent.service.mcp_server import serve_stdio

    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the protocol: nothing else may print there
        engine = Engine(_config(**common))
        engine.warm_up()
    from loupe.agent.cli_io import released_stdout

    with released_stdout():  # the protocol needs the real fd 1 (the SDK diverts stray output itself)
        serve_stdio(engine)


def _given_options(context: click.Context) -> list[str]:
    """The command's options that differ from their defaults, as arguments again (folders made absolute)."""
    args: list[str] = []
    for param in context.command.params:
        value = context.params.get(param.name)
        if not isinstance(param, click.Option) or param.name == "print_config" or value == param.default:
            continue
        for item in value if param.multiple else [value]:
            if param.name == "allow_dirs":
                item = str(Path(item).resolve())
            args += [param.opts[0]] if param.is_flag else [param.opts[0], str(item)]
    return args
