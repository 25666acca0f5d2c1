"""The Ray engine gives the same answers and outputs as the local engine (a 2-CPU local Ray cluster)."""

import json

import pytest

from loupe.agent.evaluation.harness import run_eval
from loupe.tools.settings import Settings

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_and_local_engines_agree(bench, tmp_path):
    questions, images, oracle = bench
    kept = ("id", "answer", "correct", "program", "status", "output_image")
    results = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        run_eval(questions, images, out, llm=oracle, registry="standins:registry", engine=engine, workers=2,
                 progress=False, settings=Settings.from_env())
        rows = [json.loads(line) for line in (out / "results.jsonl").open()]
        results[engine] = [{k: r[k] for k in kept} for r in rows]
        results[engine + "-image"] = (out / "images" / "q5.png").read_bytes()
    assert results["ray"] == results["local"]
    assert results["ray-image"] == results["local-image"]
