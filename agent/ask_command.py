"""``loupe ask``: plan, check, run and explain, with progress on stderr as the steps happen."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from agent.runner import EXIT_BAD_INPUT, EXIT_OK, step_summary
from programs.images import load_image


def run_ask(image_path, query, right_path, mode, llm_spec, html_path, out_path, as_json, approve, no_cache,
            quiet, planner: str = "auto") -> int:
    from agent.api import Agent

    image = load_image(image_path)
    right = load_image(right_path) if right_path else None
    llm_spec = llm_spec or os.environ.get("LOUPE_LLM", "local")
    agent = Agent(llm=llm_spec, mode=mode, use_cache=not no_cache, approve=_ask_person if approve else None,
                  planner=planner)
    answer = None
    for event in agent.stream(image, query, right):
        if event["event"] == "done":
            answer = event["answer_object"]
        elif not quiet and not as_json:
            _progress(event)
    if answer.image is not None:
        answer.image.to_pil().save(out_path)
    if html_path and answer.execution is not None:
        from programs.rationale import write_html

        write_html(answer.execution, html_path, saycan=answer.saycan, ranking=answer.ranking)
    if as_json:
        click.echo(json.dumps({
            "query": query, "mode": mode, "status": answer.status, "answer": answer.text or None,
            "image": str(Path(out_path)) if answer.image is not None else None, "program": answer.program,
            "llm_calls": answer.llm_calls, "prompt_tokens": answer.prompt_tokens, "from_cache": answer.from_cache,
            "planner": agent.runtime.planner_kind if mode == "program" else mode,
            "candidates": list(answer.ranking),
            "errors": list(answer.errors),
            "steps": step_summary(answer.execution) if answer.execution else []}, indent=2))
    elif answer.ok:
        click.echo(f"wrote {out_path}" if answer.image is not None else answer.text)
    if not answer.ok:
        for error in answer.errors or [answer.status]:
            click.echo(f"error: {error}", err=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _ask_person(program: str, edits: list[str]) -> bool:
    click.echo(f"The program edits the image ({', '.join(edits)}):\n{program}", err=True)
    return click.confirm("Run it?", default=False, err=True)


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
