"""The CLI as a user meets it: real subprocesses, exit codes, messages without tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

SUPPORT = Path(__file__).resolve().parent.parent / "support"

COUNT_TIES = """BOX0=LOC(image=IMAGE,object='tie')
BOX1=LOC(image=IMAGE,object='glasses')
ANSWER0=COUNT(box=BOX0)
ANSWER1=COUNT(box=BOX1)
ANSWER2=EVAL(expr="'yes' if {ANSWER0} > 0 and {ANSWER1} > 0 else 'no'")
FINAL_RESULT=RESULT(var=ANSWER2)
"""


def loupe(*args, plugin=True, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT), env.get("PYTHONPATH", "")])
    if plugin:
        env["LOUPE_PLUGINS"] = "cli_plugin:setup"
    return subprocess.run([sys.executable, "-m", "loupe.agent.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


@pytest.fixture
def photo(tmp_path):
    pixels = np.full((48, 64, 3), 90, np.uint8)
    pixels[10:30, 10:40] = (220, 40, 40)
    path = tmp_path / "photo.png"
    PILImage.fromarray(pixels).save(path)
    return path


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_accepts_a_good_program(tmp_path):
    result = loupe("check", str(write(tmp_path, "p.txt", COUNT_TIES)), plugin=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok, 6 steps, reads IMAGE")


def test_check_reports_every_error_with_line_and_column_and_exit_2(tmp_path):
    bad = COUNT_TIES.replace("LOC(image=IMAGE,object='glasses')", "LOCATE(image=IMAGE,object='glasses')") \
        .replace("COUNT(box=BOX0)", "COUNT(box=BOX9)")
    result = loupe("check", str(write(tmp_path, "p.txt", bad)), plugin=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "line 2, column 6: unknown module LOCATE; did you mean LOC?" in result.stderr
    assert "line 3, column 19: variable BOX9 is used before it is defined" in result.stderr


def test_check_json_lists_diagnostics(tmp_path):
    result = loupe("check", "--json", str(write(tmp_path, "p.txt", "A=LOC(image=IMAGE")), plugin=False)
    assert result.returncode == 2
    errors = json.loads(result.stdout)["errors"]
    assert errors[0]["line"] == 1 and "missing ')'" in errors[0]["message"]


def test_run_prints_the_answer(tmp_path, photo):
    result = loupe("run", str(write(tmp_path, "p.txt", COUNT_TIES)), "--image", str(photo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "yes"


def test_run_json_and_html(tmp_path, photo):
    html = tmp_path / "report.html"
    result = loupe("run", str(write(tmp_path, "p.txt", COUNT_TIES)), "--image", str(photo), "--json",
                   "--html", str(html))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and data["answer"] == "yes" and data["result_type"] == "Text"
    assert [s["module"] for s in data["steps"]] == ["LOC", "LOC", "COUNT", "COUNT", "EVAL", "RESULT"]
    page = html.read_text()
    assert "BOX0=LOC" in page and "data:image/" in page


def test_run_an_edit_writes_the_image(tmp_path, photo):
    program = "BOX0=LOC(image=IMAGE,object='tie')\nIMAGE0=COLORPOP(image=IMAGE,object=BOX0)\nR=RESULT(var=IMAGE0)\n"
    out = tmp_path / "edited.png"
    result = loupe("run", str(write(tmp_path, "p.txt", program)), "--image", str(photo), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out}"
    assert PILImage.open(out).size == (64, 48)


def test_run_a_task_list_with_its_own_file(tmp_path, photo):
    tasks = [{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": "photo.png", "text": "tie"}},
             {"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}}]
    result = loupe("run", str(write(tmp_path, "plan.json", json.dumps(tasks))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"


@pytest.mark.parametrize("content, reason", [
    (b"", "file is empty"),
    (b"this is not a picture", "not an image"),
])
def test_bad_image_names_the_file_and_why(tmp_path, content, reason):
    image = tmp_path / "broken.jpg"
    image.write_bytes(content)
    result = loupe("run", str(write(tmp_path, "p.txt", COUNT_TIES)), "--image", str(image))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "broken.jpg" in result.stderr and reason in result.stderr


def test_missing_model_pack_names_the_pull_command(tmp_path, photo, monkeypatch):
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = loupe("run", str(write(tmp_path, "p.txt", "T=CAPTION(image=IMAGE)\nR=RESULT(var=T)")), "--image",
                   str(photo), plugin=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "CAPTION cannot run here" in result.stderr and "run `loupe models pull`" in result.stderr
    assert "skipped (inputs failed): R" in result.stderr


def test_a_tool_bug_is_an_internal_error_exit_1(tmp_path, photo):
    result = loupe("run", str(write(tmp_path, "p.txt", "A=VQA(image=IMAGE,question='x')\nR=RESULT(var=A)")),
                   "--image", str(photo))
    assert result.returncode == 1
    assert "ZeroDivisionError: division by zero" in result.stderr and "Traceback" not in result.stderr


def test_tools_lists_every_module_with_its_signature():
    result = loupe("tools", "--json", plugin=False)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)["tools"]}
    expected = {"LOC", "COUNT", "CROP", "CROP_LEFTOF", "CROP_RIGHTOF", "CROP_ABOVE", "CROP_BELOW", "SEG", "SELECT",
                "CLASSIFY", "VQA", "CAPTION", "OCR", "FACEDET", "LIST", "EVAL", "RESULT", "REPLACE", "COLORPOP",
                "BGBLUR", "BLUR", "EMOJI", "TAG"}
    assert expected <= set(rows)
    assert rows["COUNT"]["signature"] == "COUNT(box: Objects) -> Number" and not rows["COUNT"]["needs_model"]
    assert rows["LOC"]["needs_model"]


def test_models_list_json_is_one_object_naming_every_backend():
    result = loupe("models", "list", "--json", plugin=False)
    assert result.returncode == 0, result.stderr
    backends = json.loads(result.stdout)["backends"]
    assert all({"tool", "backend", "available", "reason"} <= set(b) for b in backends)
    assert ("LOC", "lite") in {(b["tool"], b["backend"]) for b in backends}


def test_an_edit_of_an_object_not_found_fails_and_json_says_what_was_missing(tmp_path):
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    photo = Path(__file__).resolve().parents[1] / "data" / "photos" / "dog.jpg"
    program = "BOX0=LOC(image=IMAGE,object='kite')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\nR=RESULT(var=IMAGE0)\n"
    out = tmp_path / "out.png"
    result = loupe("run", str(write(tmp_path, "p.txt", program)), "--image", str(photo), "--json", "--out",
                   str(out), plugin=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert not data["ok"] and not out.exists()
    assert any("no kite found in dog.jpg; nothing to crop" in e for e in data["errors"]), data
