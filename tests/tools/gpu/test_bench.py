"""bench/bench_gpu.py runs end to end with tiny configs on CPU (a smoke test; its numbers mean nothing here)."""

import importlib.util
from pathlib import Path


def test_bench_runs_tiny_on_cpu(capsys):
    path = Path(__file__).resolve().parents[3] / "bench" / "bench_gpu.py"
    spec = importlib.util.spec_from_file_location("bench_gpu", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.main(["--tiny", "--device", "cpu", "--repeats", "1", "--batch", "2"])
    assert set(report["backends"]) == {"LOC/owlv2", "SELECT/clip", "CLASSIFY/clip", "VQA/blip", "CAPTION/blip"}
    assert report["program"]["steps"] == 6 and report["program"]["forwards_ms"] <= report["program"]["wall_ms"]
