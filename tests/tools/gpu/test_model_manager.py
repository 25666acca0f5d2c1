"""The model manager: one shared instance per weights, dtype/device rules, LRU eviction under a budget."""

import pytest
import torch

from loupe.tools.context import ToolContext
from loupe.tools.model_manager import ModelManager, module_bytes, pick_dtype
from loupe.tools.settings import Settings
from loupe.tools.weights import weights_present
import gpu_tiny


def linear(n):
    return lambda device, dtype: torch.nn.Linear(n, n).to(device=device, dtype=dtype)


def test_dtype_rule_on_cpu_and_explicit():
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("mps") == torch.float16
    assert pick_dtype("cpu", "bf16") == torch.bfloat16
    with pytest.raises(ValueError, match="fp32, fp16, bf16"):
        pick_dtype("cpu", "int3")


def test_one_instance_per_key_and_built_once():
    manager = ModelManager(device="cpu")
    a = manager.get(("clip", "x"), linear(4))
    b = manager.get(("clip", "x"), linear(4))
    assert a is b and manager.loads == 1
    assert next(a.parameters()).dtype == torch.float32 and next(a.parameters()).device.type == "cpu"


def test_clip_select_and_classify_share_one_model(tmp_path):
    from loupe.tools.gpu.clip import ClipClassifier, ClipSelector

    folder = gpu_tiny.save_clip(tmp_path)
    context = gpu_tiny.context_with(clip__model=str(folder))
    select, classify = ClipSelector(context), ClipClassifier(context)
    assert select.manager is classify.manager
    with select.model("clip", select._build) as a, classify.model("clip", classify._build) as b:
        assert a is b
    assert select.manager.loads == 1


def test_size_is_parameters_times_bytes():
    assert module_bytes(torch.nn.Linear(10, 10)) == (100 + 10) * 4
    assert module_bytes(torch.nn.Linear(10, 10).half()) == (100 + 10) * 2


def test_budget_drops_the_least_recently_used():
    manager = ModelManager(device="cpu", budget_bytes=2 * 110 * 4 + 10, evict="drop")
    manager.get("a", linear(10))
    manager.get("b", linear(10))
    manager.get("a", linear(10))          # a is now more recent than b
    manager.get("c", linear(10))          # over budget: b goes
    assert "b" not in manager and "a" in manager and "c" in manager
    assert manager.resident_bytes() <= manager.budget_bytes
    manager.get("b", linear(10))          # rebuilt on use
    assert manager.loads == 4


def test_offload_to_cpu_keeps_the_model_and_moves_it_back():
    manager = ModelManager(device="cpu", budget_bytes=110 * 4 + 10, evict="cpu")
    first = manager.get("a", linear(10))
    manager.get("b", linear(10))
    assert manager.loaded()["a"]["on_device"] is False and manager.loaded()["b"]["on_device"] is True
    assert manager.get("a", linear(10)) is first and manager.loads == 2   # moved back, not rebuilt
    assert manager.loaded()["b"]["on_device"] is False


def test_a_model_in_use_is_not_evicted():
    manager = ModelManager(device="cpu", budget_bytes=110 * 4 + 10, evict="drop")
    with manager.use("a", linear(10)):
        manager.get("b", linear(10))
        assert "a" in manager
    manager.get("c", linear(10))
    assert "a" not in manager or "b" not in manager


def test_weights_present_never_uses_the_network(tmp_path):
    assert weights_present(str(tmp_path))
    assert not weights_present("nobody/not-a-model")
    assert not weights_present("")


def test_from_context_reads_budget_and_dtype():
    context = ToolContext(Settings(device="cpu", gpu_budget_gb=0.5, dtype="bf16", evict="drop"))
    manager = ModelManager.of(context)
    assert manager is ModelManager.of(context)
    assert manager.budget_bytes == 2**29 and manager.dtype == torch.bfloat16 and manager.evict == "drop"
