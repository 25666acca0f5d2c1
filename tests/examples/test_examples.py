"""Every script in examples/ runs as a subprocess; planning goes through the oracle planner (canned
programs, no language model), tools through the lite pack where a script needs a model."""

import csv
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES, PHOTOS = ROOT / "examples", ROOT / "tests" / "data" / "photos"


def run(*args, env=None):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(EXAMPLES)]), **(env or {})}
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env=environment, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def lite_pack():
    from loupe.programs.errors import ToolUnavailable
    from loupe.tools.lite.pack import lite_model_path

    try:
        lite_model_path("centernet")
    except ToolUnavailable as missing:
        pytest.skip(f"lite model pack not installed; run `loupe models pull` ({missing})")


def oracle(tmp_path, query, program):
    path = tmp_path / "programs.jsonl"
    path.write_text(json.dumps({"query": query, "program": program}) + "\n")
    return f"oracle:{path}"


def test_custom_tool_from_a_program(tmp_path):
    out = run(EXAMPLES / "custom_tool.py", PHOTOS / "dog.jpg")
    assert out.startswith("brightness ") and out.strip().endswith(("bright", "dark"))
    program = tmp_path / "p.txt"
    program.write_text("ANSWER0=BRIGHTNESS(image=IMAGE)\nFINAL_RESULT=RESULT(var=ANSWER0)\n")
    plugin = run("-m", "loupe.agent.cli", "run", program, "--image", PHOTOS / "dog.jpg",
                 env={"LOUPE_PLUGINS": "custom_tool:setup"})
    assert float(plugin.strip()) > 0


@pytest.mark.models
def test_compositional_question_through_the_api(tmp_path, lite_pack):
    query = "Is there a dog and a bicycle in the photo?"
    program = (EXAMPLES / "programs" / "dog_and_bicycle.txt").read_text()
    out = run(EXAMPLES / "ask_compositional.py", PHOTOS / "dog.jpg", query, "--llm", oracle(tmp_path, query, program))
    assert "LOC(image=IMAGE,object='bicycle')" in out and out.strip().endswith("answer: yes")


@pytest.mark.models
def test_edit_with_rationale(tmp_path, lite_pack):
    out = run(EXAMPLES / "edit_with_rationale.py", EXAMPLES / "programs" / "colorpop_people.txt", PHOTOS / "person.jpg",
              "--out", tmp_path / "e.png", "--html", tmp_path / "r.html")
    assert "wrote" in out and (tmp_path / "e.png").exists()
    assert "COLORPOP" in (tmp_path / "r.html").read_text()


@pytest.mark.models
def test_batch_over_a_folder(tmp_path, lite_pack):
    out_dir = tmp_path / "out"
    args = (EXAMPLES / "batch_folder.py", EXAMPLES / "programs" / "tag_objects.txt", PHOTOS, out_dir)
    photos = len(list(PHOTOS.glob("*.jpg")))
    assert f"{photos} run, 0 skipped, {photos} ok" in run(*args)
    assert f"0 run, {photos} skipped" in run(*args)
    rows = list(csv.DictReader((out_dir / "results.csv").open()))
    assert len(rows) == photos and all((out_dir / r["output"]).exists() for r in rows)


@pytest.mark.models
def test_saycan_prints_every_candidates_scores(tmp_path, lite_pack):
    out = run(EXAMPLES / "saycan_scores.py", PHOTOS / "dog.jpg", "how many dogs", "--llm", oracle(tmp_path, "x", "x"))
    lines = [line for line in out.splitlines() if "affordance=" in line]
    assert out.startswith("step 1: chose ") and len(lines) > 5 and "answer:" in out
