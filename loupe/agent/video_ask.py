"""``loupe ask clip.mp4 QUESTION``: a question about counts or time in a video, planned from the video library.

The video is probed first (limits, corrupt files: an ``InputError`` before any model runs); the question is
read by ``loupe.agent.planning.time_words`` into a kind (count distinct objects, count at the end, first / last
time seen, how long in view) and an object; the library's program of that kind is filled, checked and run
by the interpreter with the video tools added to the registry. A question the reading does not cover is
answered ``unsupported`` with the reason. ``--json`` adds the video, the sampling rate and every track's
times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Callable

import click

from loupe.agent.cli_io import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNSUPPORTED, out
from loupe.programs.render import render
from loupe.programs.trace import Execution
from loupe.programs.values import as_text, safe_text
from loupe.programs.video_values import FrameObjects, Tracks, Video

_UNSUPPORTED = ("Loupe reads questions about a video that count objects (how many pass, how many at the end "
                "or at once), time them (when one first or last appears, how long one is in view) or blur them, "
                "naming the object; this request is not one of those")
_SECONDS = {"FIRST_SEEN", "LAST_SEEN", "SEEN_FOR"}
DEFAULT_OUT = "edited.mp4"
SECONDS_PER_FRAME = 2.0   # the step time limit of LOC_FRAMES per sampled frame (10x the lite detector's CPU time)


@dataclass
class VideoAnswer:
    """What a video question got: ``status`` ok / failed / unsupported, the answer ``text``, the ``reason``."""

    status: str
    text: str = ""
    reason: str = ""
    program: str = ""
    fps: float = 0.0
    frames: int = 0
    tracks: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    execution: Execution | None = None
    edited: Video | None = None   # an edit's video, written to a temporary file


def answer_video(video: Video, query: str, fps: float | None, settings,
                 approve: Callable[[str, list[str]], bool] | None = None, registry=None,
                 on_record: Callable | None = None) -> VideoAnswer:
    """Plan, check and run the program for ``query`` on ``video`` (sampled at ``fps``, None: chosen from
    the question and the clip). ``approve``: asked with ``(program, edits)`` before a program that writes a
    video runs, as for image edits; a no is status ``rejected`` and nothing runs. ``registry``: one with the
    video tools already in it (``loupe batch`` keeps its models loaded across videos); None: the default
    registry under ``settings``, with the video tools added. ``on_record``: called with each step's record as
    it ends (``loupe serve`` streams them)."""
    from loupe.agent.planning.time_words import read_time_question, video_program
    from loupe.programs.interpreter import Interpreter
    from loupe.tools.video import check_fps, default_fps

    reading = read_time_question(query)
    if reading is None:
        return VideoAnswer("unsupported", reason=_UNSUPPORTED)
    rate = check_fps(fps, video) if fps is not None else default_fps(video, reading.purpose)
    program = video_program(reading, rate)
    registry = registry if registry is not None else video_registry(settings)
    if registry.tool("LOC").affordance({"object": reading.object}) == 0.0:
        return VideoAnswer("unsupported", program=render(program), fps=rate,
                           reason=f"the installed detector cannot look for {reading.object!r} (see `loupe models list`)")
    edits = [s.module for s in program.steps if registry.tool_class(s.module).writes_image]
    if edits and approve is not None and not approve(render(program), edits):
        return VideoAnswer("rejected", program=render(program), fps=rate, reason="the edit was not approved")
    execution = Interpreter(registry, step_timeout_s=step_budget(video, rate),
                            on_record=on_record).run(program, {"VIDEO": video})
    steps = [r.summary() for r in execution.records]
    tracks = [t.to_data() for r in execution.records if isinstance(r.value, Tracks) for t in r.value]
    frames = sum(len(r.value) for r in execution.records if isinstance(r.value, FrameObjects))
    answer = VideoAnswer("ok", program=render(program), fps=rate, frames=frames, tracks=tracks, steps=steps,
                         execution=execution)
    failed = [r for r in execution.records if not r.ok]
    tracked = next((r.value for r in execution.records if isinstance(r.value, Tracks)), None)
    if failed and failed[0].module in _SECONDS and tracked is not None and not len(tracked):
        answer.text = f"never: no {reading.object} was seen in the {video.duration_s:.1f} s video"
        return answer
    if failed:
        answer.status, answer.reason = "failed", failed[0].error
        return answer
    if isinstance(execution.result, Video):
        answer.edited = execution.result
        return answer
    last = program.steps[-2].module
    answer.text = f"{as_text(execution.result)} s" if last in _SECONDS else as_text(execution.result)
    return answer


def video_registry(settings):
    """The default registry under ``settings`` with the video tools added (only where a video is the input)."""
    from loupe.tools.registry import default_registry
    from loupe.tools.video_tools import register_video_tools

    registry = default_registry(settings)
    register_video_tools(registry)
    return registry


def step_budget(video: Video, fps: float) -> float:
    """Seconds one step may take on ``video`` sampled at ``fps``: LOC_FRAMES is one step over every frame."""
    from loupe.programs.interpreter import DEFAULT_STEP_TIMEOUT_S

    return max(DEFAULT_STEP_TIMEOUT_S, SECONDS_PER_FRAME * fps * video.duration_s)


def run_video_ask(path, query: str, fps: float | None, as_json: bool, html_path=None, out_path=None,
                  options: list[str] = (), approve: Callable[[str, list[str]], bool] | None = None, *,
                  settings) -> int:
    """``loupe ask`` on a video file; returns the exit code. ``html_path``: where to write the rationale page
    (``loupe.agent.video_rationale``); ``out_path``: where an edit writes its video (default ``edited.mp4``, or
    ``edited-1.mp4`` ... when that exists, as for images); ``options``: the ``ask`` options given that a
    video question cannot use yet (refused, naming them, before anything runs); ``approve``: see
    ``answer_video``."""
    from loupe.agent.api import check_query
    from loupe.agent.run_command import check_output_paths, save_video_edit
    from loupe.programs.errors import InputError
    from loupe.tools.video import probe

    check_query(query)
    if options:
        raise InputError(f"{', '.join(options)}: not supported for videos yet; a video question is read by "
                         "Loupe's own time words (no LLM)")
    check_output_paths(out_path, html_path, video=True)
    video = probe(path)
    answer = answer_video(video, query, fps, settings, approve)
    saved = None
    if answer.edited is not None:
        saved = save_video_edit(answer.edited, out_path, Path(DEFAULT_OUT))
        answer.text = f"wrote {saved}"
    if html_path:
        _write_html(html_path, answer, query)
    if as_json:
        out(json.dumps({"query": query, "status": answer.status, "answer": answer.text or None,
                        "reason": answer.reason or None, "program": answer.program or None,
                        "edited_video": str(saved) if saved is not None else None,
                        "video": {"path": video.path, "width": video.width, "height": video.height,
                                  "fps": video.fps, "frames": video.frame_count,
                                  "duration_s": round(video.duration_s, 3), "codec": video.codec},
                        "sampled_fps": answer.fps or None,
                        "frames_analysed": answer.frames, "tracks": answer.tracks, "steps": answer.steps},
                       indent=2))
    elif answer.status == "ok":
        out(safe_text(answer.text))
    if answer.status == "unsupported":
        if not as_json:
            click.echo(f"unsupported: {answer.reason}", err=True)
        return EXIT_UNSUPPORTED
    if answer.status != "ok":
        if not as_json:
            click.echo(f"error: {safe_text(answer.reason)}", err=True)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _write_html(path, answer: VideoAnswer, query: str) -> None:
    if answer.execution is None:
        from loupe.agent.rationale import write_html

        write_html(None, path, question=query, status=answer.status, reason=answer.reason)
    else:
        from loupe.agent.video_rationale import write_video_html

        write_video_html(path, answer.execution, query, answer.status, answer.reason)
