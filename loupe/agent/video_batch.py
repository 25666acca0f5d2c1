"""``loupe batch`` over videos: each video of a folder (alone, or beside images) is a row of its own.

A program file that reads VIDEO runs on every video; an instruction is read for each video by Loupe's own
time words (``loupe.agent.video_ask``, no LLM), while the folder's images share the one program planned for them.
An edit's video is written as ``<stem>.mp4`` into the output folder. A video that cannot be read, or that
the program cannot take (an image program, a video program given an image), fails its own row with the
reason, never the batch.
"""

from __future__ import annotations

from pathlib import Path
import time

from loupe.programs.errors import InputError, ProgramError
from loupe.programs.video_programs import looks_like_video_file


def is_video_name(name: str) -> bool:
    """Whether a folder entry is a video, by its suffix (``clip.mp4``)."""
    return looks_like_video_file(name)


def wrong_input_row(row: dict, name: str, program_reads_video: bool) -> dict:
    """The row of ``name`` that the program cannot take (a video for an image program, or the reverse)."""
    wanted, given = ("a video (VIDEO)", "an image") if program_reads_video else ("an image (IMAGE)", "a video")
    return {**row, "errors": f"the program reads {wanted}; {name} is {given}"}


def video_row(registry, spec, name: str, program_reads_video: bool) -> dict:
    """Run ``spec``'s task on the video ``name`` of ``spec.images_dir``; the results.csv row
    (``loupe.agent.batch.FIELDS``). ``registry`` has the video tools in it."""
    started = time.perf_counter()
    row = {"file": name, "status": "failed", "answer": "", "output": "", "wall_ms": 0.0, "batch": 1,
           "llm_calls": 0, "errors": ""}
    if not (program_reads_video or spec.video_instruction):   # a program file that reads an image
        return wrong_input_row(row, name, False)
    try:
        row.update(_run_one(registry, spec, name, program_reads_video))
    except (InputError, ProgramError) as error:   # an unreadable or too large video: this row only
        row["errors"] = str(error)
    row["wall_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return row


def _run_one(registry, spec, name: str, program_reads_video: bool) -> dict:
    from loupe.agent.video_ask import answer_video, step_budget
    from loupe.programs.interpreter import Interpreter
    from loupe.programs.video_values import Video
    from loupe.tools.video import MAX_FPS, probe

    video = probe(Path(spec.images_dir) / name)
    if program_reads_video:
        budget = step_budget(video, min(video.fps, MAX_FPS))   # the program's own rate is not known here
        execution = Interpreter(registry, step_timeout_s=budget).run(spec.program, {"VIDEO": video})
        if not execution.ok:
            return {"errors": "; ".join(execution.errors)}
        if isinstance(execution.result, Video):
            return {"status": "ok", "output": _keep(execution.result, spec.out_dir, name)}
        return {"status": "ok", "answer": execution.text}
    answer = answer_video(video, spec.video_instruction, None, spec.settings, registry=registry)
    if answer.edited is not None:
        return {"status": "ok", "output": _keep(answer.edited, spec.out_dir, name)}
    if answer.status == "ok":
        return {"status": "ok", "answer": answer.text}
    return {"status": answer.status, "errors": answer.reason}


def _keep(edited, out_dir: str, name: str) -> str:
    """Move an edit's video from the tool's temporary folder to ``out_dir/<stem>.mp4``; that file name."""
    from loupe.agent.run_command import save_video_edit

    output = Path(name).stem + ".mp4"
    save_video_edit(edited, str(Path(out_dir) / output), Path(output))
    return output
