"""A small load test of the real app on 127.0.0.1: 20 asks from 8 concurrent clients over a few photos and
questions; every answer equals its own (photo, question)'s answer given one at a time, none is lost, and
the tool calls of different requests were merged into shared batches. (Speed lives in
bench/bench_service.py, not here.)"""

import pytest

from service_support import LiveServer, load_bench, make_config

pytestmark = pytest.mark.models


def test_concurrent_clients_get_their_own_answers_and_share_batches(tmp_path):
    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    bench = load_bench("bench_service")
    engine = Engine(make_config(tmp_path, llms=(f"oracle:{bench.ORACLE}",), batch_window_s=0.05))
    server = LiveServer(create_app(engine=engine))
    try:
        items = bench.workload(20, seed=1)
        pairs = sorted(set(items))
        reference = bench.drive(server.url, pairs, 1)
        expected = {pair: body.get("answer") for pair, body in zip(pairs, reference["bodies"])}
        before = engine.coalescer.stats.requests - engine.coalescer.stats.batches
        run = bench.drive(server.url, items, 8)
    finally:
        server.stop()
        engine.close()
    assert all(body.get("status") in ("ok", "partial") for body in reference["bodies"])  # partial: weak evidence
    assert bench.check(items, run["bodies"], expected) == {"lost": 0, "wrong": 0, "mixed_up": 0}
    assert len(run["bodies"]) == 20 and len({body["id"] for body in run["bodies"]}) == 20
    assert expected[(str(bench.PHOTOS / "dog.jpg"), "Is there a dog here?")] == "yes"
    merged = engine.coalescer.stats.requests - engine.coalescer.stats.batches - before
    assert merged > 0  # some model batches held calls of several requests
