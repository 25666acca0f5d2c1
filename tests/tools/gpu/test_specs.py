"""The GPU tier's registration and the auto-choice rule (weights present AND a GPU or an explicit choice)."""

import pytest

from tools.context import Config, ToolContext
from tools.gpu import specs
from tools.registry import default_registry


def test_gpu_specs_are_registered_above_lite():
    registry = default_registry(plugins=False)
    names = [s.name for s in registry.context.backend_specs("LOC")]
    assert names.index("owlv2") < names.index("lite")
    vqa = [s.name for s in registry.context.backend_specs("VQA")]
    assert vqa.index("lite") < vqa.index("vlm")  # the remote VLM is opt-in only


def test_auto_falls_back_to_lite_without_weights(monkeypatch):
    registry = default_registry(plugins=False)
    spec = registry.context.backend_specs("LOC")[0]
    ok, reason = spec.availability()
    assert not ok and "hf download" in reason


@pytest.mark.parametrize("tier, gpu, wanted, expected", [
    ("auto", True, "", True), ("auto", False, "", False), ("on", False, "", True),
    ("off", True, "", False), ("auto", False, "owlv2", True)])
def test_gate(monkeypatch, tier, gpu, wanted, expected):
    monkeypatch.setenv("LOUPE_GPU_TIER", tier)
    monkeypatch.setattr(specs, "_gpu", lambda: gpu)
    if wanted:
        monkeypatch.setenv("LOUPE_BACKEND_LOC", wanted)
    ok, reason = specs.gate("LOC", "owlv2", True, "absent")
    assert ok is expected and (ok or "LOUPE_BACKEND_LOC=owlv2" in reason)
    assert specs.gate("LOC", "owlv2", False, "absent") == (False, "absent")


def test_chosen_gpu_backend_with_local_weights_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_OWLV2_MODEL", str(tmp_path))
    monkeypatch.setenv("LOUPE_BACKEND_LOC", "owlv2")
    registry = default_registry(Config.from_env(), plugins=False)
    assert registry.context.choose_backend("LOC").name == "owlv2"
