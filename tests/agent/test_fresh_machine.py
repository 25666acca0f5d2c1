"""On a fresh machine (empty HOME: no ultralytics settings, no HF cache) stdout carries only Loupe's output,
and checking which backends can run imports no model library."""

import json
import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"


def fresh_env(home: Path, **extra) -> dict:
    """The run's environment with a brand-new, empty HOME (and everything under it)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "YOLO_", "HF_", "TORCH_HOME"))}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join([str(ROOT), str(SUPPORT)]), **extra)
    return env


def loupe(env, *args):
    return subprocess.run([sys.executable, "-m", "loupe.agent.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=180)


def test_tools_json_parses_on_a_fresh_machine_and_leaves_home_empty(tmp_path):
    home = tmp_path / "home"
    result = loupe(fresh_env(home), "tools", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["tools"]  # the whole of stdout is one JSON object
    assert {row["name"] for row in rows} >= {"LOC", "COUNT", "EVAL", "VQA", "RESULT"}
    yolo = next(b for row in rows if row["name"] == "LOC" for b in row["backends"] if b["name"] == "yolo")
    assert yolo["available"] is False and "yolo11n.pt" in yolo["reason"]
    assert not (home / ".config" / "Ultralytics").exists()  # ultralytics was never imported


def test_third_party_prints_during_a_command_go_to_stderr(tmp_path):
    # a plugin that, like ultralytics on first import, prints to stdout (Python level and file descriptor 1)
    (tmp_path / "noisy_plugin.py").write_text(
        "import os, sys\n"
        "def setup(registry):\n"
        "    print('Creating new Settings file')\n"
        "    os.write(1, b'C library chatter\\n')\n"
        "    sys.stdout.flush()\n")
    env = fresh_env(tmp_path / "home", LOUPE_PLUGINS="noisy_plugin:setup")
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    result = loupe(env, "tools", "--json")
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), dict)
    assert "Creating new Settings file" in result.stderr and "C library chatter" in result.stderr


def test_availability_checks_import_no_model_library(tmp_path):
    code = ("import sys\n"
            "from loupe.tools.registry import default_registry\n"
            "from loupe.tools.settings import Settings\n"
            "registry = default_registry(Settings.from_env())\n"
            "for name in registry.names():\n"
            "    for spec in registry.context.backend_specs(name):\n"
            "        spec.availability(registry.context.settings)\n"
            "print(sorted(m for m in ('torch', 'ultralytics', 'transformers', 'diffusers', 'segment_anything')"
            " if m in sys.modules))\n")
    env = fresh_env(tmp_path / "home", LOUPE_GPU_TIER="auto")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
