"""``loupe run``'s pieces, which ``loupe ask`` shares: loading a program's inputs, checking the output
paths before anything runs, and reporting an execution (answer or edited image, ``--json``, exit code)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from loupe.agent.cli_io import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, out
from loupe.programs.errors import InputError, ProgramError
from loupe.programs.ir import Program
from loupe.programs.trace import Execution, Status
from loupe.programs.values import as_text, safe_text, type_of


def inputs_for(program: Program, image_path: str | None, right_path: str | None, base: Path) -> dict:
    """Named inputs: ``--image`` is IMAGE (and LEFT when ``--right`` is given), or VIDEO for a video file; a
    task list's own files, which must lie in ``base`` (the task list's folder)."""
    from loupe.programs.images import confined_path, load_image
    from loupe.tools.video import is_video_path, probe

    inputs: dict = {}
    if image_path and is_video_path(image_path):
        inputs["VIDEO"] = probe(image_path)
    elif image_path:
        image = load_image(image_path)
        inputs["IMAGE"] = image
        inputs["LEFT"] = image
    if right_path:
        inputs["RIGHT"] = load_image(right_path)
    for name, file in program.files:  # a task list reads images from its own folder only
        if name not in inputs or (name == "IMAGE" and not image_path):
            inputs[name] = load_image(confined_path(base, file))
    if not inputs:
        raise ProgramError.at("no input image given", suggestion="add --image PATH")
    return inputs


def check_output_paths(out_path=None, html_path=None, video: bool = False) -> None:
    """Before a run: ``--out`` must be writable with an image format PIL can save (by its suffix), or, for a
    ``video`` input, as an .mp4; ``--html`` writable; else an InputError naming the option, the path and why."""
    if out_path and video:
        _check_writable("--out", Path(out_path))
        if Path(out_path).suffix.lower() != ".mp4":
            raise InputError(f"--out {out_path}: an edited video is written as .mp4 (H.264); give a .mp4 name")
    elif out_path:
        from PIL import Image as PILImage

        _check_writable("--out", Path(out_path))
        PILImage.init()
        fmt = PILImage.registered_extensions().get(Path(out_path).suffix.lower())
        if fmt is None or fmt not in PILImage.SAVE:
            raise InputError(f"--out {out_path}: cannot write an image with the suffix "
                             f"{Path(out_path).suffix or '(none)'!r}; use .png, .jpg or .webp")
    if html_path:
        _check_writable("--html", Path(html_path))


def _check_writable(option: str, path: Path) -> None:
    """Refuse what the end of a run could not write: a folder, a missing or read-only folder, and files
    that take no report (devices such as /dev/full, pipes, the kernel's /proc and /sys files), which
    ``os.access`` calls writable (always, for root)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        problem = "is a folder; give a file name"
    elif path.exists() and (not path.is_file() or _on_kernel_fs(path)):
        problem = "is not a regular file (a device, a pipe or a kernel file); give a file name"
    elif not folder.is_dir():
        problem = f"the folder {folder} does not exist"
    elif not os.access(path if path.exists() else folder, os.W_OK):
        problem = "is not writable here" if path.exists() else f"the folder {folder} is not writable"
    else:
        return
    raise InputError(f"{option} {path}: {problem}")


def _on_kernel_fs(path: Path) -> bool:
    """Whether ``path`` lies on the file system of /proc or /sys (the kernel's, where writes fail)."""
    device = path.stat().st_dev
    return any(os.path.isdir(root) and os.stat(root).st_dev == device for root in ("/proc", "/sys"))


def save_edit(image, out_path: str | None, default: Path) -> Path:
    """Write an edited image and return where. ``out_path``, when given, is replaced: the person named it.
    Without it, ``default`` or, when that exists, the first free ``<stem>-1<suffix>``, ``<stem>-2<suffix>``,
    ...: an edit without ``--out`` never overwrites a file. A free name rather than a refusal, because the
    edit has been computed by then and a refusal would throw it away; the name is printed (and is ``image``
    under ``--json``). The file is created exclusively, so a file appearing meanwhile is not overwritten."""
    picture = image.to_pil()
    if out_path:
        picture.save(out_path)
        return Path(out_path)
    return _to_free_name(default, lambda path, file: picture.save(file, format=_format_of(path)))


def save_video_edit(video, out_path: str | None, default: Path) -> Path:
    """Move an edit's video (``Video``, written by the tool into a temporary folder of its own, which goes
    too) to ``out_path``, else to a free name from ``default``, as ``save_edit`` does for images. A video
    that no edit wrote (a program that returns its input VIDEO) is copied, never moved."""
    import shutil

    from loupe.tools.video_edits import written_by_an_edit

    written, edited = Path(video.path), written_by_an_edit(video)
    target = Path(out_path) if out_path else _to_free_name(default, lambda path, file: None)  # claimed, empty
    if edited:
        shutil.move(written, target)
        shutil.rmtree(written.parent, ignore_errors=True)
    else:
        shutil.copyfile(written, target)
    return target


def _to_free_name(default: Path, write) -> Path:
    """The first of ``default``, ``<stem>-1<suffix>``, ... that does not exist, created exclusively and filled
    by ``write(path, file)``."""
    for n in range(10_000):
        path = default if n == 0 else default.with_name(f"{default.stem}-{n}{default.suffix}")
        try:
            with path.open("xb") as file:
                write(path, file)
            return path
        except FileExistsError:
            continue
    raise InputError(f"{default} and 10,000 numbered names beside it exist; give --out")


def _format_of(path: Path) -> str:
    from PIL import Image as PILImage

    PILImage.init()
    return PILImage.registered_extensions()[path.suffix.lower()]


def report(execution: Execution, as_json: bool, html_path, out_path: str | None, default_out: Path,
           notes: tuple[str, ...] = ()) -> int:
    """Print the answer (or save the edited image: to ``out_path``, else a free name from ``default_out``, see
    ``save_edit``), write the rationale; return the exit code. ``notes``: the program's (``--json``'s ``notes``)."""
    from loupe.programs.video_values import Video

    result = execution.result
    saved = None
    if execution.image is not None and execution.ok:
        saved = save_edit(execution.image, out_path, default_out)
    elif isinstance(result, Video) and execution.ok:   # an edited video, in the tool's temporary folder
        saved = save_video_edit(result, out_path, default_out.with_suffix(".mp4"))
    if html_path:
        from loupe.agent.rationale import write_html

        write_html(execution, html_path)
    if as_json:
        out(json.dumps({
            "ok": execution.ok, "answer": None if saved else _jsonable(result),
            "result_type": str(type_of(result)) if execution.ok else None,
            "image": str(saved) if saved else None, "wall_ms": round(execution.wall_s * 1000, 2),
            "steps": execution.steps(), "errors": execution.errors, "notes": list(notes)}, indent=2))
    elif execution.ok:
        out(f"wrote {saved}" if saved else safe_text(execution.answer))
    if not execution.ok:
        for line in execution.errors:
            click.echo(f"error: {safe_text(line)}", err=True)
        skipped = [r.output for r in execution.records if r.status is Status.SKIPPED]
        if skipped:
            click.echo(f"skipped (inputs failed): {', '.join(skipped)}", err=True)
        return EXIT_INTERNAL if execution.crashed else EXIT_BAD_INPUT
    if html_path:
        click.echo(f"rationale: {html_path}", err=True)
    return EXIT_OK


def _jsonable(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return as_text(value)
