"""The GPU tier's registration and the auto-choice rule (weights present AND a GPU or an explicit choice),
judged on the settings given, never on the process's environment."""

import pytest

from loupe.tools.backends import WeightsMissing
from loupe.tools.gpu import specs
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings


def owlv2(registry):
    return next(s for s in registry.context.backend_specs("LOC") if s.name == "owlv2")


def test_gpu_specs_are_registered_above_lite():
    registry = default_registry(Settings.from_env(), plugins=False)
    names = [s.name for s in registry.context.backend_specs("LOC")]
    assert names.index("owlv2") < names.index("lite")
    vqa = [s.name for s in registry.context.backend_specs("VQA")]
    assert vqa.index("blip") < vqa.index("lite") and "multimodal" in vqa  # the remote VLM: only with --vlm


def test_auto_falls_back_to_lite_without_weights():
    registry = default_registry(Settings.from_env(), plugins=False)
    spec = registry.context.backend_specs("LOC")[0]
    ok, reason = spec.availability(registry.context.settings)
    assert not ok and "hf download" in reason
    assert spec.weights(registry.context.settings) == "absent"
    with pytest.raises(WeightsMissing):
        spec.check_ready(registry.context.settings)


@pytest.mark.parametrize("tier, gpu, wanted, expected", [
    ("auto", True, "", True), ("auto", False, "", False), ("on", False, "", True),
    ("off", True, "", False), ("auto", False, "owlv2", True)])
def test_gate(monkeypatch, tmp_path, tier, gpu, wanted, expected):
    monkeypatch.setattr(specs, "_gpu", lambda: gpu)
    settings = Settings(gpu_tier=tier, backends={"LOC": wanted} if wanted else {},
                        options={"owlv2.model": str(tmp_path)})
    spec = owlv2(default_registry(settings, plugins=False))
    ok, reason = spec.availability(settings)
    assert ok is expected and (ok or "LOUPE_BACKEND_LOC=owlv2" in reason)
    assert spec.weights(settings) == "present"
    absent = settings.with_(options={"owlv2.model": str(tmp_path / "nothing")})
    assert not spec.availability(absent)[0] and spec.weights(absent) == "absent"


def test_chosen_gpu_backend_with_local_weights_is_used(tmp_path):
    registry = default_registry(Settings(backends={"LOC": "owlv2"}, options={"owlv2.model": str(tmp_path)}),
                                plugins=False)
    assert registry.context.choose_backend("LOC").name == "owlv2"


def test_readiness_reads_the_settings_not_the_environment(monkeypatch, tmp_path):
    """A registry made with settings that choose owlv2 reports on owlv2 as chosen, whatever the environment."""
    monkeypatch.setenv("LOUPE_GPU_TIER", "off")
    monkeypatch.setenv("LOUPE_OWLV2_MODEL", str(tmp_path / "not-here"))
    registry = default_registry(Settings(backends={"LOC": "owlv2"}, options={"owlv2.model": str(tmp_path)}),
                                plugins=False)
    ok, reason = owlv2(registry).availability(registry.context.settings)
    assert ok, reason
    chosen_without_weights = default_registry(Settings(backends={"LOC": "owlv2"}), plugins=False)
    ok, reason = owlv2(chosen_without_weights).availability(chosen_without_weights.context.settings)
    assert not ok and "hf download google/owlv2" in reason and "LOUPE_BACKEND_LOC" not in reason


def test_environment_model_path_is_an_option(monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_OWLV2_MODEL", str(tmp_path))
    monkeypatch.setenv("LOUPE_BACKEND_LOC", "owlv2")
    registry = default_registry(Settings.from_env(), plugins=False)
    assert registry.context.choose_backend("LOC").name == "owlv2"
