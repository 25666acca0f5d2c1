"""``run_batch``: one task over a folder of images and videos ("count the people", "blur every face", a
program file), writing ``results.csv`` and the edited images and videos into ``out_dir``.

The instruction is planned once (the Agent's program planner) and the program is reused for every
image; images go to the interpreter in chunks (``Interpreter.run_many``), so one tool's calls across
the chunk's images run as one batch. A run can be resumed: rows already in ``results.csv`` (with their
output image, when they have one) are skipped. ``baseline="visprog"`` runs the same images
VisProg-style afterwards (one planning call per image, steps one by one) into ``out_dir/baseline``.
Videos are run one at a time (``loupe.agent.video_batch``), in the same chunks and engines as the images.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
import json
from pathlib import Path
import time
from typing import Any

from loupe.programs.errors import ProgramError
from loupe.tools.settings import Settings

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
FIELDS = ("file", "status", "answer", "output", "wall_ms", "batch", "llm_calls", "errors")


@dataclass(frozen=True)
class BatchSpec:
    """What a worker needs (picklable). ``system``: loupe (chunks through ``run_many``) or visprog."""

    program: str
    images_dir: str
    out_dir: str
    registry: str = ""
    system: str = "loupe"
    llm: Any = None           # visprog with an instruction: plans again for every image
    instruction: str = ""
    settings: Settings | None = None  # what the entry point read (None: the defaults, nothing read)
    video_instruction: str = ""       # an instruction read for each video (no program file): agent.video_ask
    videos: bool = False              # the folder has videos: the workers' registries get the video tools

    def build(self):
        return BatchWorker(self)


class BatchWorker:
    def __init__(self, spec: BatchSpec):
        from loupe.agent.evaluation.systems import make_registry, warm_up

        self.spec = spec
        self.registry = make_registry(spec.registry, spec.settings)
        self.planner = None
        if spec.system == "visprog" and spec.instruction:
            from loupe.agent.evaluation.systems import make_model
            from loupe.agent.planning.planner import make_planners

            self.planner = make_planners(make_model(spec.llm, spec.settings), self.registry)["program"]
            self.planner.max_repairs = 0
        self.reads_video = False
        if spec.videos:
            from loupe.programs.parser import parse_program
            from loupe.programs.video_programs import reads_video
            from loupe.tools.video_tools import register_video_tools

            register_video_tools(self.registry)
            self.reads_video = bool(spec.program) and reads_video(parse_program(spec.program))
        warm_up(self.registry)

    def __call__(self, files: list[str]) -> list[dict]:
        from loupe.agent.video_batch import is_video_name, video_row, wrong_input_row

        images = [name for name in files if not is_video_name(name)]
        if self.reads_video:
            done = [wrong_input_row(self._row(name, None, 0.0, 0), name, True) for name in images]
        else:
            done = self._image_rows(images)
        done += [video_row(self.registry, self.spec, name, self.reads_video) for name in files if is_video_name(name)]
        rows = {row["file"]: row for row in done}
        return [rows[name] for name in files]

    def _image_rows(self, files: list[str]) -> list[dict]:
        from loupe.programs.images import load_image

        if not files:
            return []
        images = [load_image(Path(self.spec.images_dir) / name) for name in files]
        started = time.perf_counter()
        if self.spec.system == "loupe":
            from loupe.programs.interpreter import Interpreter

            executions = Interpreter(self.registry).run_many(
                [(self.spec.program, {"IMAGE": image}) for image in images])
            calls = [0] * len(files)
        else:
            executions, calls = zip(*[self._visprog(image) for image in images]) if images else ((), ())
        wall = (time.perf_counter() - started) / max(1, len(files))
        return [self._row(name, execution, wall, llm_calls) for name, execution, llm_calls
                in zip(files, executions, calls)]

    def _visprog(self, image):
        from loupe.agent.evaluation.visprog import run_sequential
        from loupe.programs.checker import check

        if self.planner is not None:
            from loupe.tools.injected import LLM_KEY, injected

            plan = self.planner.plan(self.spec.instruction)
            if not plan.ok:
                return None, plan.llm_calls
            with injected({LLM_KEY: self.planner.llm}):  # LIST and PICK_TEXT use the planner's model
                return run_sequential(self.registry, plan.checked, {"IMAGE": image}), plan.llm_calls
        from loupe.programs.parser import parse_program

        checked = check(parse_program(self.spec.program), self.registry)
        return run_sequential(self.registry, checked, {"IMAGE": image}), 0

    def _row(self, name: str, execution, wall: float, llm_calls: int) -> dict:
        row = {"file": name, "status": "failed", "answer": "", "output": "", "wall_ms": round(wall * 1000, 2),
               "batch": 0, "llm_calls": llm_calls, "errors": ""}
        if execution is None:
            return {**row, "errors": "the planner's program did not check"}
        row["batch"] = max((r.batch_size for r in execution.records), default=0)
        row["errors"] = "; ".join(execution.errors)
        if not execution.ok:
            return row
        row["status"] = "ok"
        if execution.image is not None:
            output = Path(name).stem + ".png"
            execution.image.to_pil().save(Path(self.spec.out_dir) / output)
            row["output"] = output
        else:
            row["answer"] = execution.text
        return row


def plan_once(task: str, registry, llm, settings: Settings) -> str:
    """The program text for ``task``: a program file's contents, or one planning call for an instruction
    (``llm`` made under ``settings``)."""
    from loupe.agent.planning.planner import make_planners
    from loupe.programs import load_program
    from loupe.programs.checker import check
    from loupe.programs.render import render

    path = Path(task)
    if is_program_file(task):   # a video program reads VIDEO (the registry then has the video tools)
        from loupe.programs.checker import DEFAULT_INPUTS
        from loupe.programs.video_programs import VIDEO_INPUTS

        program = load_program(path.read_text(encoding="utf-8"), registry.names())
        return render(check(program, registry, {**DEFAULT_INPUTS, **VIDEO_INPUTS}).program)
    from loupe.agent.evaluation.systems import make_model

    plan = make_planners(make_model(llm, settings), registry)["program"].plan(task)
    if not plan.ok:
        raise ProgramError.at(f"could not plan {task!r}: {plan.error}",
                              suggestion="rephrase the instruction or give a program file")
    return plan.program_text


def is_program_file(task: str) -> bool:
    """Whether ``task`` names a program file (VisProg text or a JSON task list) rather than an instruction."""
    return Path(task).suffix in (".txt", ".json") and Path(task).is_file()


def finished_rows(out: Path) -> dict[str, dict]:
    """Rows of ``results.csv`` whose item is done (and whose output image exists, when it has one)."""
    path = out / "results.csv"
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return {r["file"]: r for r in rows if r.get("status") and (not r.get("output") or (out / r["output"]).exists())}


def run_batch(task: str, images_dir: str | Path, out_dir: str | Path, llm: Any = "local", registry: str = "",
              engine: str = "local", workers: int = 1, chunk_size: int = 8, baseline: str | None = None,
              limit: int | None = None, progress: bool = True, engine_options: dict | None = None, *,
              settings: Settings) -> dict:
    """Run ``task`` over every image and video in ``images_dir``; returns a summary (also in ``summary.json``).
    An instruction is planned once for the images; each video reads it itself (``loupe.agent.video_batch``).
    ``settings``: what the entry point read (``loupe batch``: ``Settings.from_env()``)."""
    from loupe.agent.engines import make_engine
    from loupe.agent.evaluation.systems import make_registry
    from loupe.agent.video_batch import is_video_name

    out, folder = Path(out_dir), Path(images_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise ProgramError.at(f"{folder} is not a folder of images or videos")
    files = sorted(p.name for p in folder.iterdir()
                   if p.suffix.lower() in IMAGE_SUFFIXES or is_video_name(p.name))[:limit or None]
    images = [name for name in files if not is_video_name(name)]
    planning = make_registry(registry, settings)
    if is_program_file(task) and len(images) < len(files):
        from loupe.tools.video_tools import register_video_tools

        register_video_tools(planning)   # the program may read VIDEO; no LLM plans with this registry
    program = _program(task, out, planning, llm, settings) if images or is_program_file(task) else ""
    instruction = "" if is_program_file(task) else task
    spec = BatchSpec(program, str(folder), str(out), registry, settings=settings, video_instruction=instruction,
                     videos=len(images) < len(files))
    summary = {"task": task, "program": program, "images": len(images), "videos": len(files) - len(images),
               "engine": engine, "workers": workers,
               **_run(spec, files, out, make_engine(engine, workers, **(engine_options or {})), chunk_size,
                      "batch", progress)}
    if baseline:   # the VisProg-style baseline is for images
        base_out = out / "baseline"
        base_out.mkdir(exist_ok=True)
        base_spec = BatchSpec(program, str(folder), str(base_out), registry, "visprog", llm, instruction,
                              settings=settings)
        summary["baseline"] = _run(base_spec, images, base_out, make_engine("local", 1), 1, "visprog baseline",
                                   progress)
        base, ours = summary["baseline"]["throughput_items_per_s"], summary["throughput_items_per_s"]
        summary["speedup"] = round(ours / base, 3) if base and ours else None
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _program(task: str, out: Path, registry, llm, settings: Settings) -> str:
    """Plan once per output folder: a resumed run reuses the program it planned before."""
    saved, saved_task = out / "program.txt", out / "task.txt"
    if saved.exists() and saved_task.exists() and saved_task.read_text(encoding="utf-8") == task:
        return saved.read_text(encoding="utf-8")
    program = plan_once(task, registry, llm, settings)
    saved.write_text(program, encoding="utf-8")
    saved_task.write_text(task, encoding="utf-8")
    return program


def _run(spec: BatchSpec, files: list[str], out: Path, engine, chunk_size: int, label: str, progress: bool) -> dict:
    from loupe.agent.evaluation.progress import progress_bar

    done = finished_rows(out)
    todo = [f for f in files if f not in done]
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), max(1, chunk_size))]
    path = out / "results.csv"
    with open(path, "w", newline="", encoding="utf-8") as file:  # keep only finished rows, then append
        writer = csv.DictWriter(file, FIELDS)
        writer.writeheader()
        writer.writerows({k: done[f].get(k, "") for k in FIELDS} for f in files if f in done)
    started: list[float] = []
    rows: list[dict] = []
    with open(path, "a", newline="", encoding="utf-8") as file, \
            progress_bar(label, len(files), progress) as advance:
        advance(len(files) - len(todo))
        writer = csv.DictWriter(file, FIELDS)

        def write(index, chunk_rows):
            writer.writerows(chunk_rows)
            file.flush()
            rows.extend(chunk_rows)
            advance(len(chunk_rows))

        try:
            engine.map(spec, chunks, on_result=write, on_start=lambda: started.append(time.perf_counter()))
        finally:
            engine.close()
    wall = time.perf_counter() - started[0] if started else 0.0
    return {"ran": len(rows), "skipped": len(files) - len(todo), "ok": sum(r["status"] == "ok" for r in rows),
            "wall_s": round(wall, 3), "throughput_items_per_s": round(len(rows) / wall, 4) if wall > 0 else 0.0,
            "llm_calls": sum(int(r["llm_calls"]) for r in rows)}
