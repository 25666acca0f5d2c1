"""One typed settings object: read from the environment in one place, passed explicitly everywhere else."""

from pathlib import Path
import re

import pytest
from pydantic import ValidationError

from loupe.tools.settings import Settings, cache_root, env_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("loupe/agent", "loupe/tools", "loupe/programs")
SETTINGS_MODULE = ROOT / "loupe" / "tools" / "settings.py"


def test_from_env_types_every_variable():
    settings = Settings.from_env({
        "LOUPE_BACKEND_loc": "owlv2", "LOUPE_DEVICE": "CUDA", "LOUPE_DTYPE": "bf16", "LOUPE_GPU_TIER": "On",
        "LOUPE_GPU_BUDGET_GB": "12.5", "LOUPE_EVICT": "drop", "LOUPE_CACHE_DIR": "/tmp/c", "LOUPE_LLM": "ollama:x",
        "LOUPE_LLM_MODEL": "m", "LOUPE_PLUGINS": "a:setup, b:setup", "LOUPE_API_TOKEN": "t",
        "LOUPE_OWLV2_MODEL": "/w/owl", "OPENAI_API_KEY": "k", "OLLAMA_HOST": "box:1", "HF_HUB_OFFLINE": "1",
        "UNRELATED": "x"})
    assert settings.backends == {"LOC": "owlv2"} and settings.device == "cuda" and settings.dtype == "bf16"
    assert settings.gpu_tier == "on" and settings.gpu_budget_gb == 12.5 and settings.evict == "drop"
    assert settings.cache_root() == Path("/tmp/c") and settings.llm == "ollama:x" and settings.llm_model == "m"
    assert settings.plugins == ("a:setup", "b:setup") and settings.api_token == "t"
    assert settings.openai_api_key == "k" and settings.ollama_host == "box:1" and settings.hf_hub_offline
    assert settings.option("owlv2.model") == "/w/owl" and settings.option("clip.model", "d") == "d"


def test_given_options_win_over_the_environment_and_bad_values_are_refused():
    settings = Settings.from_env({"LOUPE_OWLV2_MODEL": "/env"}, options={"owlv2.model": "/given"})
    assert settings.option("owlv2.model") == "/given"
    with pytest.raises(ValidationError, match="gpu_tier"):
        Settings.from_env({"LOUPE_GPU_TIER": "sometimes"})
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)


def test_the_constructor_reads_nothing_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_DEVICE", "cuda")
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path))
    assert Settings().device == "auto" and Settings.from_env().device == "cuda"
    assert cache_root() == tmp_path and Settings(cache_dir=tmp_path / "x").cache_root() == tmp_path / "x"


def test_env_name_is_the_one_mangling():
    assert env_name("grounding_dino.model") == "LOUPE_GROUNDING_DINO_MODEL"
    assert env_name("yolo-world.batch") == "LOUPE_YOLO_WORLD_BATCH"


def test_no_environment_read_outside_the_settings_module():
    pattern = re.compile(r"\bos\.(environ|getenv)\b|\bgetenv\(|from os import .*\b(environ|getenv)\b")
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == SETTINGS_MODULE:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "read the environment through tools.settings.Settings:\n" + "\n".join(offenders)
