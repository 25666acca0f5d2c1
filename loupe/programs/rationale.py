"""The visual rationale: one self-contained HTML page explaining a run, step by step.

The page has inline CSS and images as ``data:`` URLs, so it opens offline and can be mailed as is.
From the top: the question asked (when given), the final result, the program text, then for each step
its line, ``OUT=MODULE(args)``, the argument values (thumbnails for images), the output (objects drawn
on the step's input image, and listed), the status (ok / failed with the error / skipped), wall time in
ms and backend. What only the agent knows (the planner's candidates, SayCan's choices) and how objects
are drawn come in from above: ``loupe.agent.rationale`` builds the full page on :func:`render_page`.
"""

from __future__ import annotations

from html import escape
from typing import Callable, Sequence

from loupe.programs.render import render, render_step
from loupe.programs.rationale_values import image_html, value_html
from loupe.programs.trace import Execution, Status, StepRecord
from loupe.programs.values import Image, Objects

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
pre{background:#f6f8fa;padding:.8em;border-radius:6px;overflow-x:auto}
.step{border:1px solid #ddd;border-radius:8px;padding:.6em 1em;margin:.8em 0}
.step.failed,.step.timeout{border-color:#d33;background:#fff6f6}
.step.skipped{opacity:.65}
.call{font-family:ui-monospace,monospace;font-weight:600}
.line{color:#888;font-family:ui-monospace,monospace;margin-right:.6em}
.badge{display:inline-block;padding:0 .5em;border-radius:4px;font-size:.85em;margin-left:.6em}
.badge.ok{background:#dfd} .badge.failed,.badge.timeout{background:#fcc} .badge.skipped{background:#eee}
.meta{color:#666;font-size:.85em;margin-left:.6em}
.error{color:#b00;font-family:ui-monospace,monospace;white-space:pre-wrap}
table{border-collapse:collapse;margin:.4em 0} td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
img.thumb{max-width:320px;border:1px solid #ccc;vertical-align:top}
img.result{max-width:640px;border:1px solid #ccc}
.args{margin:.4em 0} .args dt{font-weight:600} .args dd{margin:0 0 .4em 1.5em}
.none{color:#999;font-style:italic}
.question{font-size:1.15em;background:#eef4ff;border-left:4px solid #4878a8;padding:.5em .8em}
"""


def render_page(execution: Execution, question: str = "", sections: Sequence[tuple[str, str]] = (),
                draw: Callable[[Image, Objects], Image] | None = None) -> str:
    """The rationale page of ``execution`` as one HTML string. ``question``: what the user asked, shown
    at the top; ``sections``: more ``(heading, html)`` parts appended after the steps (the agent adds its
    planner's candidates and SayCan's choices; the html must be escaped already); ``draw(image, objects)``
    draws a step's objects on its input image (None: objects are listed only)."""
    asked = f'<p class="question"><strong>Question:</strong> {escape(question)}</p>' if question.strip() else ""
    body = [asked, _summary_html(execution), "<h2>Program</h2>", f"<pre>{escape(_program_text(execution))}</pre>",
            "<h2>Steps</h2>"]
    body += [_step_html(execution, record, draw) for record in execution.records]
    for heading, html in sections:
        body += [f"<h2>{escape(heading)}</h2>", html]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>Loupe rationale</title><style>{_CSS}</style></head>"
            f"<body><h1>Loupe rationale</h1>{''.join(body)}</body></html>\n")


def _program_text(execution: Execution) -> str:
    return execution.program.source or render(execution.program)


def _summary_html(execution: Execution) -> str:
    if isinstance(execution.result, Image):
        result = image_html(execution.result, 640, "result")
    elif execution.result is None:
        result = '<span class="none">no result (the RESULT step did not run)</span>'
    else:
        result = value_html(execution.result)
    status = "ok" if execution.ok else f"{len(execution.errors)} step(s) failed"
    errors = "".join(f'<div class="error">{escape(e)}</div>' for e in execution.errors)
    return (f'<section class="summary"><h2>Result</h2><div>{result}</div>'
            f'<p>Status: {escape(status)}<span class="meta">{execution.wall_s * 1000:.0f} ms in all</span></p>'
            f"{errors}</section>")


def _step_text(execution: Execution, record: StepRecord) -> str:
    """``OUT=MODULE(args)`` as written in the program (rebuilt from the record if the step is unknown)."""
    steps = execution.program.steps
    if 0 <= record.index < len(steps) and steps[record.index].output == record.output:
        return render_step(steps[record.index])
    return f"{record.output}={record.module}({','.join(record.inputs)})"


def _step_html(execution: Execution, record: StepRecord, draw) -> str:
    status = str(record.status)
    meta = f"{record.wall_s * 1000:.1f} ms"
    if record.backend:
        meta += f" · {record.backend}"
    if record.batch_size > 1:
        meta += f" · batch of {record.batch_size}"
    head = (f'<div><span class="line">line {record.line}</span>'
            f'<span class="call">{escape(_step_text(execution, record))}</span>'
            f'<span class="badge {status}">{escape(status)}</span>'
            f'<span class="meta">{escape(meta)}</span></div>')
    parts = [head, _arguments_html(record)]
    if record.status is Status.OK:
        parts.append(f'<div class="output"><strong>{escape(record.output)}</strong> = '
                     f"{_output_html(record, draw)}</div>")
    elif record.error:
        parts.append(f'<div class="error">{escape(record.error)}</div>')
    return f'<section class="step {status}" id="step-{record.index}">{"".join(parts)}</section>'


def _arguments_html(record: StepRecord) -> str:
    if not record.inputs:
        return ""
    items = "".join(f"<dt>{escape(str(name))}</dt><dd>{value_html(value)}</dd>"
                    for name, value in record.inputs.items())
    return f'<dl class="args">{items}</dl>'


def _output_html(record: StepRecord, draw) -> str:
    """The step's value; objects are drawn (``draw``) on the step's ``image`` input when it has one of their
    size."""
    value = record.value
    image = record.inputs.get("image")
    if draw is not None and isinstance(value, Objects) and isinstance(image, Image) and \
            tuple(value.image_size) in ((0, 0), image.size):
        return f"{image_html(draw(image, value))}{value_html(value)}"
    return value_html(value)
