"""``loupe ask``: plan, check, run and explain, with progress on stderr as the steps happen."""

from __future__ import annotations

from functools import partial
import json
from pathlib import Path
import sys

import click

from loupe.agent.cli_io import out
from loupe.agent.cli_io import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNSUPPORTED
from loupe.agent.run_command import check_output_paths, save_edit
from loupe.programs.errors import InputError
from loupe.programs.images import load_image
from loupe.programs.values import safe_text

DEFAULT_OUT = "edited.png"


def run_ask(image_path, query, right_path, mode, llm_spec, html_path, out_path, as_json, approve, no_cache,
            quiet, llm_timeout=None, planner: str = "auto", *, settings, fps: float | None = None) -> int:
    """``loupe ask``; returns the exit code. ``llm_timeout``: seconds one remote LLM call may take in all;
    ``planner``: auto, rank or generate; ``settings``: what the command line read (``loupe.agent.cli.settings_of``);
    ``fps``: frames per second to sample when ``image_path`` is a video (``loupe.agent.video_ask``)."""
    from loupe.agent.api import Agent, check_query
    from loupe.tools.video import is_video_path

    if is_video_path(image_path):
        from loupe.agent.video_ask import run_video_ask

        unused = {"--right": right_path, "--mode": mode != "program", "--llm": llm_spec}
        ask = partial(_ask_person, what="video") if approve else None
        return run_video_ask(image_path, query, fps, as_json, html_path, out_path,
                             [k for k, v in unused.items() if v], ask, settings=settings)

    check_query(query)
    check_output_paths(out_path, html_path)
    image = load_image(image_path)
    right = load_image(right_path) if right_path else None
    llm = _make_llm(llm_spec, llm_timeout, settings)
    with Agent(llm=llm, mode=mode, use_cache=not no_cache, approve=_ask_person if approve else None,
               planner=planner, settings=settings) as agent:
        answer = None
        for event in agent.stream(image, query, right):
            if event["event"] == "done":
                answer = event["answer_object"]
            elif not quiet and not as_json:
                _progress(event)
        return _report(answer, query, mode, html_path, out_path, as_json, agent.deps.planner_kind)


def _make_llm(spec: str | None, timeout: float | None, settings):
    """The model for ``spec`` (None: the settings' LLM); a remote one gets ``timeout`` as its per-call
    deadline and request timeout."""
    from loupe.agent.llm import make_llm
    from loupe.agent.llm.factory import resolve_llm_spec, takes_network_options

    spec = resolve_llm_spec(spec, settings)
    if timeout is None or not takes_network_options(spec):
        return make_llm(spec, settings=settings)
    return make_llm(spec, timeout=timeout, deadline=timeout, settings=settings)


def _report(answer, query, mode, html_path, out_path, as_json, planner_kind: str) -> int:
    saved = save_edit(answer.image, out_path, Path(DEFAULT_OUT)) if answer.image is not None else None
    if html_path and (answer.execution is not None or answer.status == "unsupported"):
        from loupe.agent.rationale import write_html

        write_html(answer.execution, html_path, saycan=answer.saycan, question=query, ranking=answer.ranking,
                   status=answer.status, reason=answer.reason)
    if as_json:
        out(json.dumps(answer_json(answer, query, mode, saved, planner_kind), indent=2))
    elif answer.answered:
        out(f"wrote {saved}" if saved else safe_text(answer.text))
    if answer.status == "partial" or (answer.status == "ok" and answer.reason):   # ok: how words were read
        if not as_json:
            click.echo(f"note: {safe_text(answer.reason)}", err=True)
        return EXIT_OK
    if answer.status == "unsupported":
        if not as_json:
            click.echo(f"unsupported: {safe_text(answer.reason)}", err=True)
        return EXIT_UNSUPPORTED
    if not answer.ok:
        for error in answer.errors or [answer.text or answer.status]:
            click.echo(f"error: {safe_text(error)}", err=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def answer_json(answer, query: str, mode: str, image_path, planner_kind: str) -> dict:
    """The JSON object of ``loupe ask --json`` for ``answer`` (``image_path``: where its image was written)."""
    return {
        "query": query, "mode": mode, "status": answer.status, "answer": answer.text or None,
        "image": str(Path(image_path)) if image_path is not None else None, "program": answer.program,
        "llm_calls": answer.llm_calls, "prompt_tokens": answer.prompt_tokens, "from_cache": answer.from_cache,
        "planner": planner_kind if mode == "program" else mode,
        "candidates": list(answer.ranking),
        "saycan": [step.summary() for step in answer.saycan.steps] if answer.saycan is not None else [],
        "errors": list(answer.errors), "reason": answer.reason or None,
        "unused": list(answer.coverage.get("unused", [])),
        "steps": list(answer.steps)}


def _ask_person(program: str, edits: list[str], what: str = "image") -> bool:
    """Show the edit (of the ``what``: image or video) and ask; from a terminal with a prompt, else one y/n line
    read from stdin per decision (a replanned program asked about again reads the next line). No line left
    rejects the edit, and says so."""
    click.echo(f"The program edits the {what} ({', '.join(edits)}):\n{program}", err=True)
    if sys.stdin is not None and sys.stdin.isatty():
        return click.confirm("Run it?", default=False, err=True)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        click.echo("--approve: no answer line left on stdin, so this edit is rejected; give one y/n line per "
                   "decision (a replanned edit is asked about again), e.g. printf 'y\\ny\\n' | loupe ask ...",
                   err=True)
        return False
    word = line.strip().lower()
    if word in ("y", "yes"):
        return True
    if word in ("n", "no"):
        return False
    raise InputError(f"--approve needs a y/n answer, but stdin is not a terminal and gave {line.strip()[:20]!r}; "
                     f"pipe one in (echo y | loupe ask ... --approve) or run from a terminal")


def _progress(event: dict) -> None:
    kind = event["event"]
    if kind == "plan":
        source = {"cache": "from the program cache", "rank": "ranked"}.get(event["source"], "planned")
        click.echo(f"[{source}]\n{event['program'].strip()}", err=True)
    elif kind == "check" and not event["ok"]:
        click.echo("[check] " + "; ".join(event["errors"]), err=True)
    elif kind in ("repair", "replan"):
        click.echo(f"[{kind}]\n{event['program'].strip()}", err=True)
    elif kind == "step":
        detail = event["error"] or (event["value"] or "")
        click.echo(f"  {event['output']}={event['module']}  {event['status']}  {event['wall_ms']:.0f} ms  "
                   f"{detail[:80]}", err=True)
    elif kind == "saycan":
        top = ", ".join(f"{c[0]} (llm {c[1]:.2f} x aff {c[2]:.2f})" for c in event["candidates"][:3])
        click.echo(f"  saycan: {event['chosen']}   top: {top}", err=True)
