"""A short soak of a real ``loupe serve`` process (bench/bench_soak.py: its 10-minute run's numbers are in
BENCHMARKS.md): a few clients for a few seconds of every kind of work (questions with known answers,
EVAL runs over per-request numbers, approved and rejected edits, disconnects, requests past the time
limit); nothing lost or mixed up, every run ended as it should, no worker held at the end."""

import pytest

from service_support import load_bench

pytestmark = pytest.mark.models


def test_a_short_soak_loses_and_mixes_up_nothing_and_frees_every_worker():
    bench = load_bench("bench_soak")
    report = bench.soak(seconds=12, clients=len(bench.KINDS), timeout_s=6, sample_s=2,
                        photos=("dog.jpg", "horses.jpg"))
    outcomes = report["outcomes"]
    assert outcomes.get("lost", 0) == outcomes.get("wrong", 0) == outcomes.get("mixed_up", 0) == 0, report["problems"]
    assert all(sum(report["by_kind"][kind].values()) >= 1 for kind in bench.KINDS)  # every kind was tried
    assert report["by_kind"]["timeout"].get("ok", 0) >= 1       # a 504, and its run ended timed_out
    ends = report["left_runs_ended"]                            # every disconnected or timed-out run ended so
    assert ends.get("timed_out", 0) >= 1 and "unended" not in ends and "other" not in ends
    health = report["health"]
    assert health["running"] == health["admitted"] == health["awaiting_approval"] == 0
    assert report["expected_answers"]["dog.jpg | Is there a dog here?"] == "yes"
