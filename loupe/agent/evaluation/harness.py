"""``run_eval``: a benchmark through Loupe (and optionally the VisProg-style baseline), writing
``results.jsonl``, ``summary.json``, ``summary.md``, ``summary.png`` and, when the benchmark has edits,
``contact_sheet.png`` (every edit's input and output, its target regions and verdict) into ``out_dir``
(and ``baseline_results.jsonl`` with ``--baseline visprog``).

Loupe runs items on the chosen engine with ``workers`` in parallel; the baseline always runs on this
machine, one item at a time (VisProg has no concurrency), on the same tool backends.
"""

from __future__ import annotations

from pathlib import Path
import time
from typing import Any

from loupe.agent.engines import make_engine
from loupe.agent.evaluation.bench import load_items
from loupe.agent.evaluation.progress import progress_bar
from loupe.agent.evaluation.reports import compare, summarize, write_jsonl, write_summary
from loupe.agent.evaluation.systems import EvalSpec
from loupe.tools.settings import Settings

BASELINES = ("visprog",)


def run_eval(questions: str | Path, images_dir: str | Path, out_dir: str | Path, mode: str = "program",
             llm: Any = "local", workers: int = 1, baseline: str | None = None, engine: str = "local",
             limit: int | None = None, registry: str = "", use_cache: bool = False, progress: bool = True,
             engine_options: dict | None = None, planner: str = "auto",
             needs: tuple[str, ...] | None = None, *, settings: Settings) -> dict:
    """Run the benchmark; returns the summary (also written to ``out_dir``). ``needs``: keep only the
    items whose needs all lie within it (e.g. what the lite tier covers); ``limit`` applies after.
    ``settings``: what the entry point read (``loupe eval``: ``Settings.from_env()``), for the tools and LLM."""
    items = load_items(questions, None if needs else limit)
    if needs:
        items = [item for item in items if set(item.needs) <= set(needs)][:limit]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    label, llm = llm, _oracle_by_id(llm, questions)
    spec = EvalSpec(str(images_dir), llm, mode, registry, use_cache, "loupe", str(out), planner=planner,
                    settings=settings)
    rows, wall = _run(spec, items, make_engine(engine, workers, **(engine_options or {})), "loupe", progress)
    write_jsonl(out / "results.jsonl", rows)
    summary = {"questions": str(questions), "mode": mode, "llm": label if isinstance(label, str) else type(label).__name__,
               "engine": engine, "workers": workers, "planner": planner, "needs_filter": list(needs or []),
               **summarize(rows, wall)}
    baseline_rows: list[dict] = []
    if baseline:
        if baseline not in BASELINES:
            from loupe.programs.errors import ProgramError

            raise ProgramError.at(f"unknown baseline {baseline!r}", suggestion="choose visprog")
        base_spec = EvalSpec(str(images_dir), llm, mode, registry, False, "visprog", str(out),
                             images_subdir="baseline/images", planner=planner, settings=settings)
        baseline_rows, base_wall = _run(base_spec, items, make_engine("local", 1), "visprog baseline", progress)
        write_jsonl(out / "baseline_results.jsonl", baseline_rows)
        summary.update(compare(summary, summarize(baseline_rows, base_wall)))
    write_summary(out, summary)
    from loupe.agent.evaluation.plot import plot_summary

    plot_summary(out / "summary.png", summary, rows, baseline_rows)
    from loupe.agent.evaluation.contact_sheet import write_contact_sheet

    write_contact_sheet(out / "contact_sheet.png", rows, items, images_dir, out)
    return summary


def _run(spec: EvalSpec, items, engine, label: str, progress: bool) -> tuple[list[dict], float]:
    """Rows in item order and the wall time of the run in seconds, from when the workers are built
    (models loaded: ``EvalSpec.build`` loads every available model backend) to the last item."""
    started: list[float] = []
    try:
        with progress_bar(label, len(items), progress) as advance:
            rows = engine.map(spec, items, on_result=lambda index, row: advance(),
                              on_start=lambda: started.append(time.perf_counter()))
            wall = time.perf_counter() - (started[0] if started else time.perf_counter())
    finally:
        engine.close()
    return rows, wall


def _oracle_by_id(llm: Any, questions) -> Any:
    """``oracle:FILE`` -> the oracle, its rows keyed by item id resolved through the benchmark's questions."""
    if not (isinstance(llm, str) and llm.startswith("oracle:")):
        return llm
    from loupe.agent.evaluation.oracle import OracleLLM

    return OracleLLM.from_file(llm.split(":", 1)[1], {item.id: item.query for item in load_items(questions)})
