"""The layer contracts of pyproject.toml ([tool.importlinter]) hold, and would catch a broken one.

programs never imports tools or agent; tools never imports agent; tools.lite and tools.gpu import only the
shared tools code, never each other; the shared tools code imports no tier (so no cycle between the model
manager and the GPU tier). Run by import-linter (``lint-imports``), as here.
"""

from pathlib import Path
import os
import subprocess
import sys
import tomllib

ROOT = Path(__file__).resolve().parents[1]
RUN = ("from importlinter.cli import lint_imports; "
       "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def lint(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run([sys.executable, "-c", RUN], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_contracts_hold():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "3 kept" in result.stdout


def test_a_broken_contract_fails(tmp_path):
    """The same contracts on a small tree where the language imports a tool and the GPU tier a lite module."""
    files = {"loupe/__init__.py": "", "loupe/programs/__init__.py": "", "loupe/programs/values.py": "import loupe.tools.base\n",
             "loupe/agent/__init__.py": "", "loupe/agent/api.py": "import loupe.tools.base\n",
             "loupe/tools/__init__.py": "", "loupe/tools/base.py": "import loupe.programs\n",
             "loupe/tools/lite/__init__.py": "", "loupe/tools/lite/coco.py": "",
             "loupe/tools/gpu/__init__.py": "", "loupe/tools/gpu/yolo.py": "import loupe.tools.lite.coco\n"}
    shared = ("backends", "context", "settings", "registry", "model_tool", "model_manager", "weights",
              "tool_table", "devices", "coco", "vocabulary", "loc", "replace", "imageops", "drawing")
    files.update({f"loupe/tools/{name}.py": "" for name in shared})
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert {c["id"] for c in config["contracts"]} == {"layers", "tiers", "shared-tools"}
    (tmp_path / "pyproject.toml").write_text(_section(ROOT / "pyproject.toml"))
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "2 broken" in result.stdout and "loupe.programs.values -> loupe.tools.base" in result.stdout
    assert "loupe.tools.gpu.yolo -> loupe.tools.lite.coco" in result.stdout


def _section(path: Path) -> str:
    """The [tool.importlinter] tables of ``path``, verbatim."""
    text = path.read_text(encoding="utf-8")
    return text[text.index("\n[tool.importlinter]\n") + 1:]
