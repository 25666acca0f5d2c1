"""The visual rationale of an agent's run: the language's page (``loupe.programs.rationale``) with objects drawn
on each step's input image, the planner's candidate programs and SayCan's choices.

``write_html(execution, path, saycan, question, ranking)`` writes one self-contained HTML file (inline CSS,
images as ``data:`` URLs); ``render_html`` returns the same page as a string.
"""

from __future__ import annotations

from functools import partial
from html import escape
from pathlib import Path

from loupe.programs.rationale import render_page
from loupe.programs.trace import Execution
from loupe.programs.values import safe_text
from loupe.tools.drawing import draw_objects


def write_html(execution: Execution | None, path, saycan=None, question: str = "", ranking=(),
               status: str = "ok", reason: str = "") -> Path:
    """Write the rationale page of ``execution`` to ``path`` (UTF-8); returns the path. A request that
    was not run (``status`` unsupported, no execution) gets a page with the reason."""
    path = Path(path)
    if execution is None:
        page = (f"<!doctype html><meta charset='utf-8'><title>Loupe: {escape(status)}</title>"
                f"<h1>{escape(question)}</h1><p class='status {escape(status)}'><b>{escape(status)}</b>: "
                f"{escape(reason)}</p>" + (_ranking_html(ranking) if ranking else ""))
        path.write_text(safe_text(page), encoding="utf-8")
        return path
    path.write_text(safe_text(render_html(execution, saycan, question, ranking, status, reason)), encoding="utf-8")
    return path


def render_html(execution: Execution, saycan=None, question: str = "", ranking=(), status: str = "ok",
                reason: str = "") -> str:
    """The rationale page of ``execution`` as one HTML string. ``question``: what the user asked, shown
    at the top; ``saycan`` (a SayCan run) adds every candidate's two scores for each step; ``ranking``
    (dicts with ``program`` and numeric scores, best first) adds the candidate programs a planner chose from;
    a ``partial`` status shows its ``reason`` first (an ``ok`` one's reason is a note: how a word was read)."""
    sections = []
    if reason:
        sections.append((f"Status: {status}" if status != "ok" else "Note", f"<p>{escape(reason)}</p>"))
    if ranking:
        sections.append(("Candidate programs", _ranking_html(ranking)))
    if saycan is not None:
        sections.append(("SayCan choices", "".join(_saycan_html(number, step)
                                                   for number, step in enumerate(saycan.steps, start=1))))
    return render_page(execution, question, sections, draw=partial(draw_objects, scores=True))


def _saycan_html(number: int, step) -> str:
    """One SayCan decision: every candidate with its skill prior, LLM probability, affordance and product."""
    ranked = sorted(step.candidates, key=lambda c: -c.combined)
    bold = ' style="font-weight:600"'
    rows = "".join(
        f"<tr{bold if c.text == step.chosen else ''}><td><code>{escape(c.text)}</code></td>"
        f"<td>{getattr(c, 'prior', 1.0):.2f}</td><td>{_llm_cell(c)}</td><td>{c.affordance:.2f}</td>"
        f"<td>{c.combined:.4f}</td></tr>" for c in ranked)
    pruned = getattr(step, "pruned", ())
    skipped = "".join(f"<li><code>{escape(text)}</code>: {escape(why)}</li>" for text, why in pruned)
    skipped = (f"<details><summary>{len(pruned)} candidate(s) not scored (cannot succeed here)</summary>"
               f"<ul>{skipped}</ul></details>") if pruned else ""
    why = getattr(step, "llm_pass", "")
    note = f"<p>LLM pass skipped: {escape(why)}</p>" if why else ""
    return (f'<section class="step"><div><span class="line">step {number}</span><span class="call">'
            f"{escape(step.chosen)}</span></div>{note}<table><tr><th>candidate</th><th>skill prior</th><th>LLM</th>"
            f"<th>affordance</th><th>prior x LLM x affordance</th></tr>{rows}</table>{skipped}</section>")


def _llm_cell(candidate) -> str:
    """A candidate's LLM factor, or "not run" when its step's LLM pass was skipped."""
    return "not run" if getattr(candidate, "llm_logprob", 0.0) is None else f"{candidate.llm:.4f}"


def _ranking_html(ranking) -> str:
    """The ranked candidate programs with every score they have, the chosen (first) in bold."""
    keys = [k for k, v in ranking[0].items() if k != "program" and (isinstance(v, (int, float)) or v is None)]
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    rows = []
    for number, candidate in enumerate(ranking):
        style = ' style="font-weight:600"' if number == 0 else ""
        cells = "".join("<td>" + ("" if candidate.get(k) is None else escape(str(candidate[k]))) + "</td>"
                        for k in keys)
        rows.append(f"<tr{style}><td><pre>{escape(str(candidate.get('program', '')))}</pre></td>{cells}</tr>")
    return f"<table><tr><th>program</th>{head}</tr>{''.join(rows)}</table>"
