"""The VisProg-style baseline runs steps one at a time, in order: no batch above one, no overlap."""

import json

from loupe.agent.evaluation.harness import run_eval
from loupe.tools.settings import Settings


def test_baseline_executes_sequentially(bench, calls, tmp_path):
    questions, images, oracle = bench
    summary = run_eval(questions, images, tmp_path / "out", llm=oracle, registry="standins:registry",
                       baseline="visprog", workers=2, progress=False, settings=Settings.from_env())
    baseline_calls = list(calls)  # the baseline runs after Loupe: keep only its calls
    rows = [json.loads(line) for line in (tmp_path / "out" / "baseline_results.jsonl").open()]
    assert [r["answer"] for r in rows[:4]] == ["1", "2", "yes", "yes"] and all(r["correct"] for r in rows)
    assert all(r["llm_calls"] == 1 for r in rows)
    steps = [s for r in rows for s in r["steps"]]
    assert all(s["batch"] == 1 for s in steps)
    two_image = [s["module"] for s in rows[3]["steps"]]
    assert two_image == ["LOC", "LOC", "COUNT", "COUNT", "EVAL", "RESULT"]
    model_calls = baseline_calls[-sum(1 for s in steps if s["module"] in ("LOC", "FACEDET")):]
    assert all(size == 1 for _, size, _, _ in model_calls)
    spans = sorted((start, end) for _, _, start, end in model_calls)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert summary["speedup"] is not None and "baseline" in summary


def test_loupe_batches_one_programs_ready_calls(bench, calls, tmp_path):
    questions, images, oracle = bench
    run_eval(questions, images, tmp_path / "out", llm=oracle, registry="standins:registry", limit=4, progress=False,
             settings=Settings.from_env())
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").open()]
    assert max(s["batch"] for s in rows[3]["steps"]) == 2  # LEFT and RIGHT located in one call


def test_baseline_rows_point_at_the_baselines_own_edited_image(bench, tmp_path):
    questions, images, oracle = bench
    out = tmp_path / "out"
    run_eval(questions, images, out, llm=oracle, registry="standins:registry", baseline="visprog", progress=False,
             settings=Settings.from_env())
    ours = [json.loads(line) for line in (out / "results.jsonl").open()][4]
    theirs = [json.loads(line) for line in (out / "baseline_results.jsonl").open()][4]
    assert ours["output_image"] == "images/q5.png" and (out / "images" / "q5.png").is_file()
    assert theirs["output_image"] == "baseline/images/q5.png" and (out / "baseline" / "images" / "q5.png").is_file()
