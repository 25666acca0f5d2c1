"""``run_batch``: plan once, cross-image batching, results.csv, edited images, resume, Ray agreement."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from fake_llm import FakeLLM
from loupe.tools.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "evaluation"))  # standins:registry

from loupe.agent.batch import run_batch  # noqa: E402

COUNT_CATS = "BOX0=LOC(image=IMAGE,object='cat')\nANSWER0=COUNT(box=BOX0)\nR=RESULT(var=ANSWER0)\n"
BLUR_FACES = "OBJ0=FACEDET(image=IMAGE)\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\nR=RESULT(var=IMAGE0)\n"


@pytest.fixture
def folder(tmp_path):
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(2)
    for i in range(7):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(images / f"img{i}.png")
    return images


def rows(out):
    with open(out / "results.csv", newline="") as file:
        return list(csv.DictReader(file))


def test_an_instruction_is_planned_once_and_images_are_batched(folder, tmp_path):
    import standins

    standins.CALLS.clear()
    llm = FakeLLM().enqueue(COUNT_CATS)  # a second planning call would fail: nothing more is enqueued
    summary = run_batch("count the cats", folder, tmp_path / "out", llm=llm, registry="standins:registry",
                        chunk_size=4, progress=False, settings=Settings.from_env())
    assert len(llm.prompts) == 1 and summary["ran"] == 7 and summary["ok"] == 7
    table = rows(tmp_path / "out")
    assert [r["file"] for r in table] == [f"img{i}.png" for i in range(7)] and {r["answer"] for r in table} == {"2"}
    assert sorted(size for _, size, _, _ in standins.CALLS) == [3, 4]  # two chunks, one LOC call each
    assert (tmp_path / "out" / "program.txt").read_text() == COUNT_CATS


def test_edits_are_written_and_a_killed_run_resumes(folder, tmp_path):
    program = tmp_path / "blur.txt"
    program.write_text(BLUR_FACES)
    out = tmp_path / "out"

    class Killed(Exception):
        pass

    from loupe.agent.engines.local import LocalEngine

    class DiesAfterOneChunk(LocalEngine):
        def map(self, spec, payloads, on_result=None, on_start=None):
            def stop_after_first(index, result):
                on_result(index, result)
                raise Killed

            return super().map(spec, payloads, stop_after_first, on_start)

    import loupe.agent.engines as engines

    original = engines.make_engine
    engines.make_engine = lambda name="local", workers=1, **o: DiesAfterOneChunk(workers)
    try:
        with pytest.raises(Killed):
            run_batch(str(program), folder, out, registry="standins:registry", chunk_size=3, progress=False,
                      settings=Settings.from_env())
    finally:
        engines.make_engine = original
    assert [r["file"] for r in rows(out)] == ["img0.png", "img1.png", "img2.png"]
    (out / "img2.png").unlink()  # an output that went missing is done again
    summary = run_batch(str(program), folder, out, registry="standins:registry", chunk_size=3, progress=False,
                        settings=Settings.from_env())
    assert summary["skipped"] == 2 and summary["ran"] == 5
    table = rows(out)
    assert sorted(r["file"] for r in table) == [f"img{i}.png" for i in range(7)]
    assert all(r["status"] == "ok" and (out / r["output"]).exists() for r in table)
    again = run_batch(str(program), folder, out, registry="standins:registry", progress=False,
                      settings=Settings.from_env())
    assert again["ran"] == 0 and again["skipped"] == 7


def test_baseline_runs_every_image_alone(folder, tmp_path):
    import standins

    program = tmp_path / "count.txt"
    program.write_text(COUNT_CATS)
    summary = run_batch(str(program), folder, tmp_path / "out", registry="standins:registry", chunk_size=7,
                        baseline="visprog", progress=False, settings=Settings.from_env())
    sizes = [size for _, size, _, _ in standins.CALLS[-7:]]
    assert sizes == [1] * 7 and summary["baseline"]["ran"] == 7 and summary["speedup"] is not None
    assert {r["batch"] for r in rows(tmp_path / "out" / "baseline")} == {"1"}


@pytest.mark.slow
def test_ray_batch_matches_local(folder, tmp_path):
    pytest.importorskip("ray")
    program = tmp_path / "blur.txt"
    program.write_text(BLUR_FACES)
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        run_batch(str(program), folder, out, registry="standins:registry", engine=engine, workers=2, chunk_size=3,
                  progress=False, settings=Settings.from_env())
        table = sorted(rows(out), key=lambda r: r["file"])
        outputs[engine] = ([(r["file"], r["status"], r["output"]) for r in table],
                          [(out / r["output"]).read_bytes() for r in table])
    assert outputs["ray"] == outputs["local"]
