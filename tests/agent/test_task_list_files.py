"""A task list run by `loupe run` reads image files from its own folder only; a name outside it is refused
with exit 2 and one line that does not tell whether the file exists."""

import json
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image as PILImage

ROOT = Path(__file__).resolve().parents[2]


def run_tasks(folder: Path, image: str) -> subprocess.CompletedProcess:
    tasks = [{"task": "object-detection", "id": 0, "dep": [-1], "args": {"image": image, "text": "tie"}},
             {"task": "object-counting", "id": 1, "dep": [0], "args": {"image": "<GENERATED>-0"}}]
    plan = folder / "plan.json"
    plan.write_text(json.dumps(tasks))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "support")]),
           "LOUPE_PLUGINS": "cli_plugin:setup"}
    return subprocess.run([sys.executable, "-m", "loupe.agent.cli", "run", str(plan), "--json"], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def layout(tmp_path):
    """tmp/secret.png (outside) and tmp/plans/ (the task list's folder) holding sub/ok.png."""
    pixels = np.full((32, 48, 3), 120, np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "secret.png")
    plans = tmp_path / "plans"
    (plans / "sub").mkdir(parents=True)
    PILImage.fromarray(pixels).save(plans / "sub" / "ok.png")
    return tmp_path, plans


def test_a_file_in_the_task_lists_folder_is_read(layout):
    _, plans = layout
    result = run_tasks(plans, "sub/ok.png")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == 2  # the stand-in LOC finds two ties


@pytest.mark.parametrize("name", ["../secret.png", "{root}/secret.png", "sub/../../secret.png"])
def test_a_file_outside_is_refused_whether_or_not_it_exists(layout, name):
    root, plans = layout
    messages = []
    for target in (name, name.replace("secret", "missing")):
        result = run_tasks(plans, target.format(root=root))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and "must be inside" in result.stderr
        messages.append(result.stderr.replace("missing", "secret"))
    assert messages[0] == messages[1]
