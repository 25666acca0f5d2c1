"""What clients read: a run's events and its result as JSON, with URLs of its images and rationale.

URLs (all under ``/v1/results/{id}``): ``image.png`` the edited image, ``video.mp4`` the edited video,
``rationale.html`` the visual rationale, ``steps/{OUTPUT}.png`` a step's thumbnail (its image, or its objects
drawn on its input).
"""

from __future__ import annotations

import io
import time

from loupe.agent.run_command import _jsonable
from loupe.agent.service.runs import Run, step_thumbnail
from loupe.programs.trace import Execution
from loupe.programs.values import Image, Objects, as_text, type_of


def urls(run: Run) -> dict:
    base = f"/v1/results/{run.id}"
    return {"result": base, "image": f"{base}/image.png", "video": f"{base}/video.mp4",
            "rationale": f"{base}/rationale.html", "steps": f"{base}/steps"}


def thumbnail_url(run: Run, output: str) -> str | None:
    """The URL of a step's thumbnail, when the step made something to show."""
    record = run.records.get(output)
    if record is None or not _showable(record):
        return None
    return f"{urls(run)['steps']}/{output}.png"


def _showable(record) -> bool:
    return isinstance(record.value, Image) or (isinstance(record.value, Objects) and
                                                isinstance(record.inputs.get("image"), Image))


def public_event(run: Run, event: dict) -> dict:
    """An agent event as sent to clients: step events get their thumbnail URL."""
    event = {key: value for key, value in event.items() if key != "answer_object"}
    if event.get("event") == "step":
        event["thumbnail"] = thumbnail_url(run, event["output"])
        _hide_paths(run, event)
    return event


def _hide_paths(run: Run, row: dict) -> dict:
    """A video question's step ``row`` without the server's file names (``VideoAsk.hide_paths``)."""
    if run.video is not None:
        for key in ("value", "error"):
            row[key] = run.video.hide_paths(row.get(key))
    return row


def ask_result(run: Run, answer) -> dict:
    """The JSON result of an ask: answer (text, or the edited image's URL), program, steps, usage, timings."""
    edited = answer.image is not None
    result = {"id": run.id, "kind": "ask", "status": answer.status, "query": run.query, "mode": run.mode,
              "llm": run.llm, "answer": urls(run)["image"] if edited else answer.text,
              "answer_type": "image" if edited else "text", "image_url": urls(run)["image"] if edited else None,
              "program": answer.program, "errors": list(answer.errors), "reason": answer.reason or None,
              "unused": list(answer.coverage.get("unused", [])),
              "steps": _steps(run, answer.execution) if answer.execution else [],
              "usage": {"llm_calls": answer.llm_calls, "prompt_tokens": answer.prompt_tokens,
                        "from_cache": answer.from_cache},
              "approval": next((e for e in answer.events if e.get("event") == "approval"), None)}
    return {**result, **_common(run, answer.execution)}


def video_result(run: Run, job) -> dict:
    """The JSON result of an ask about a video: what ``loupe ask --json`` gives (the video, the sampled rate,
    the frames analysed, every track's times), the edited video's URL, the steps and timings."""
    from loupe.agent.service.videos import video_facts

    answer = job.answer
    edited = answer.edited is not None
    video_url = urls(run)["video"] if edited else None
    result = {"id": run.id, "kind": "ask", "status": answer.status, "query": run.query, "mode": run.mode,
              "llm": None, "answer": video_url or answer.text or None, "answer_type": "video" if edited else "text",
              "image_url": None, "video_url": video_url, "program": answer.program,
              "errors": [job.hide_paths(answer.reason)] if answer.status == "failed" and answer.reason else [],
              "reason": job.hide_paths(answer.reason) or None, "video": video_facts(job.video, job.name),
              "sampled_fps": answer.fps or None, "frames_analysed": answer.frames, "tracks": answer.tracks,
              "steps": _steps(run, answer.execution) if answer.execution else []}
    return {**result, **_common(run, answer.execution)}


def program_result(run: Run, execution: Execution) -> dict:
    """The JSON result of a program run: the answer (typed), the steps, errors and timings."""
    value = execution.result
    edited = isinstance(value, Image) and execution.ok
    return {"id": run.id, "kind": "run", "status": "ok" if execution.ok else "failed",
            "answer": urls(run)["image"] if edited else (_jsonable(value) if execution.ok else None),
            "answer_type": "image" if edited else "text",
            "result_type": str(type_of(value)) if execution.ok else None,
            "image_url": urls(run)["image"] if edited else None, "errors": execution.errors,
            "steps": _steps(run, execution), **_common(run, execution)}


def _common(run: Run, execution: Execution | None) -> dict:
    now = time.time()
    started = run.started or now
    timings = {"queued_ms": round((started - run.created) * 1000, 1), "run_ms": round((now - started) * 1000, 1),
               "total_ms": round((now - run.created) * 1000, 1)}
    if execution is not None:
        timings["program_ms"] = round(execution.wall_s * 1000, 1)
    return {"timings": timings, "rationale_url": urls(run)["rationale"] if execution is not None else None}


def _steps(run: Run, execution: Execution) -> list[dict]:
    rows = execution.steps()
    for row, record in zip(rows, execution.records):
        row["value"] = None if record.value is None else as_text(record.value)[:500]
        row["thumbnail"] = f"{urls(run)['steps']}/{record.output}.png" if _showable(record) else None
        _hide_paths(run, row)
    return rows


def thumbnail(run: Run, output: str) -> Image | None:
    """The thumbnail image of step ``output`` of ``run`` (from the finished execution, or as it runs)."""
    record = run.records.get(output)
    if record is None and run.execution is not None:
        record = next((r for r in run.execution.records if r.output == output), None)
    return step_thumbnail(record) if record is not None else None


def png_bytes(image: Image, max_side: int | None = None) -> bytes:
    """``image`` encoded as PNG, shrunk to ``max_side`` pixels on its longest side when given."""
    pil = image.to_pil()
    if max_side:
        pil.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()
