"""The suite's own rules: without pulled models the model tests skip, unless LOUPE_REQUIRE_MODELS=1 (CI),
which makes each such skip a failure; README and .ci/run run the same test command."""

import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]


def pytest_on(test_file: str, cache: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LOUPE_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
                          capture_output=True, text=True, env=environment, cwd=ROOT, timeout=300)


def test_missing_models_skip_by_default_and_fail_when_required(tmp_path):
    empty = tmp_path / "no-models"
    empty.mkdir()
    skipped = pytest_on("tests/agent/test_local_modes.py", empty)
    assert skipped.returncode == 0 and " skipped" in skipped.stdout and "failed" not in skipped.stdout
    required = pytest_on("tests/agent/test_local_modes.py", empty, LOUPE_REQUIRE_MODELS="1")
    assert required.returncode == 1 and "skipped" not in required.stdout  # a skip in setup reports as an error
    assert "LOUPE_REQUIRE_MODELS=1, but the models are missing" in required.stdout


def test_readme_and_ci_run_the_same_test_command():
    command = "LOUPE_REQUIRE_MODELS=1 python3 -m pytest -q"
    assert command in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith(command)
