"""The suite runs as on a fresh machine (issue 10): before collection, every HOME-level folder — HOME, the XDG
folders, ultralytics' settings, the Hugging Face and torch caches, Loupe's cache (program cache included)
and TMPDIR — is a new folder of this run, and the environment variables that would steer tests (LOUPE_*,
OPENAI_*, HF_*, ...) are dropped. The pulled models stay reachable: Loupe's per-run cache links to the
lite pack and the embedded LLM where `loupe models pull` put them.

With no models pulled, tests that need them skip; ``LOUPE_REQUIRE_MODELS=1`` (what CI sets) turns those
skips into failures, so CI cannot pass on skips.
"""

import os
from pathlib import Path
import shutil
import sys
import tempfile

import numpy as np
import pytest

SUPPORT = Path(__file__).resolve().parent / "support"
sys.path.insert(0, str(SUPPORT))  # stand-in tools shared by tests: fakes.py, cli_plugin.py

STEERING = ("LOUPE_", "OPENAI_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_", "YOLO_", "OLLAMA_", "TORCH_HOME",
            "XDG_", "ANTHROPIC_", "DIFFUSERS_")
MODEL_FOLDERS = ("human-models-3.0.4", "llm")  # what `loupe models pull` writes into Loupe's cache
MISSING_MODELS = "loupe models pull"  # every skip for missing models names the command that fixes it
_run_root: Path | None = None
_require_models = False


def pytest_configure(config):
    """Point every HOME-level folder at a new folder of this run (before any test module is imported)."""
    global _run_root, _require_models
    from loupe.tools.lite.pack import cache_dir

    real_cache = cache_dir()  # where the user's pulled models are (LOUPE_CACHE_DIR or the user cache)
    _require_models = os.environ.get("LOUPE_REQUIRE_MODELS", "") not in ("", "0")
    _run_root = Path(tempfile.mkdtemp(prefix="loupe-tests-"))
    for key in [k for k in os.environ if k.startswith(STEERING)]:
        del os.environ[key]
    folders = {"HOME": "home", "XDG_CONFIG_HOME": "home/.config", "XDG_CACHE_HOME": "home/.cache",
               "XDG_DATA_HOME": "home/.local/share", "YOLO_CONFIG_DIR": "home/.config", "HF_HOME": "hf",
               "TORCH_HOME": "torch", "LOUPE_CACHE_DIR": "loupe-cache", "TMPDIR": "tmp"}
    for key, folder in folders.items():
        (_run_root / folder).mkdir(parents=True, exist_ok=True)
        os.environ[key] = str(_run_root / folder)
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", LOUPE_GPU_TIER="off")
    for name in MODEL_FOLDERS:
        if (real_cache / name).exists():
            (_run_root / "loupe-cache" / name).symlink_to(real_cache / name, target_is_directory=True)
    tempfile.tempdir = None  # recomputed from the new TMPDIR


def pytest_unconfigure(config):
    if _run_root is not None:
        shutil.rmtree(_run_root, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip_for_missing_models(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip_for_missing_models(outcome.get_result())


def _fail_skip_for_missing_models(report) -> None:
    """Under LOUPE_REQUIRE_MODELS=1, a skip because the models are not pulled is a failure."""
    if _require_models and report.skipped and MISSING_MODELS in str(report.longrepr):
        report.outcome = "failed"
        report.longrepr = f"LOUPE_REQUIRE_MODELS=1, but the models are missing: {report.longrepr}"


@pytest.fixture(autouse=True)
def _pinned_environment(monkeypatch):
    """Each test starts from the run's environment: no backend choice, the lite tier pinned."""
    for key in [k for k in os.environ if k.startswith("LOUPE_BACKEND_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("LOUPE_GPU_TIER", "off")


@pytest.fixture
def small_image():
    from loupe.programs.values import Image

    pixels = np.zeros((60, 80, 3), dtype=np.uint8)
    pixels[10:30, 20:50] = (200, 30, 30)
    return Image(pixels, "small.png")
