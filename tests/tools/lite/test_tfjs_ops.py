"""Every op of the TF.js runner against TensorFlow's output on a tiny random input.

References: tests/data/tfjs/ops.npz + op_cases.json, written by make_reference.py
(TensorFlow in a throwaway venv). Each case also runs with its 4-D float inputs stored
NCHW, the runner's internal layout, to check the axis/padding remapping.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from loupe.tools.lite.tfjs import supported_ops
from loupe.tools.lite.tfjs.layout import Act, tf
from loupe.tools.lite.tfjs.model_file import Node
from loupe.tools.lite.tfjs.ops import op_table

DATA = Path(__file__).resolve().parents[2] / "data" / "tfjs"
CASES = json.loads((DATA / "op_cases.json").read_text())
ARRAYS = np.load(DATA / "ops.npz")


def _inputs(name: str) -> list[np.ndarray]:
    return [ARRAYS[f"{name}/in{k}"] for k in range(len(CASES[name]["const"]))]


def _outputs(name: str) -> list[np.ndarray]:
    out, j = [], 0
    while f"{name}/out{j}" in ARRAYS:
        out.append(ARRAYS[f"{name}/out{j}"])
        j += 1
    return out


def _has_image_input(name: str) -> bool:
    return any(v.ndim == 4 and v.dtype == np.float32 and not const
               for v, const in zip(_inputs(name), CASES[name]["const"]))


def run_case(name: str, nchw: bool) -> list[torch.Tensor]:
    """Build the case's node like GraphModel does and run it; outputs in TF layout."""
    raw = CASES[name]["node"]
    node = Node(name=raw["name"], op=raw["op"], inputs=tuple(raw["input"]), attrs=raw.get("attr", {}))
    tensors = [torch.from_numpy(np.ascontiguousarray(v)) for v in _inputs(name)]
    consts = [t if const else None for t, const in zip(tensors, CASES[name]["const"])]
    acts = []
    for t, const in zip(tensors, CASES[name]["const"]):
        as_nchw = nchw and not const and t.dim() == 4 and t.dtype == torch.float32
        acts.append(Act(t.permute(0, 3, 1, 2), nchw=True) if as_nchw else Act(t))
    with torch.inference_mode():
        result = op_table()[node.op](node, consts)(acts)
    return [tf(a) for a in (result if isinstance(result, list) else [result])]


def assert_matches(name: str, got: torch.Tensor, want: np.ndarray) -> None:
    got_np = got.cpu().numpy()
    assert got_np.shape == want.shape, f"{name}: shape {got_np.shape} != TF {want.shape}"
    if want.dtype.kind in "fc":
        scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
        np.testing.assert_allclose(got_np, want, rtol=1e-4, atol=1e-5 * scale, err_msg=name)
    else:
        assert got_np.dtype.kind == want.dtype.kind or {got_np.dtype.kind, want.dtype.kind} <= {"i", "u"}, \
            f"{name}: dtype {got_np.dtype} vs TF {want.dtype}"
        np.testing.assert_array_equal(got_np, want, err_msg=name)


CASE_LAYOUTS = [(n, False) for n in CASES] + [(n, True) for n in CASES if _has_image_input(n)]


@pytest.mark.parametrize("name,nchw", CASE_LAYOUTS, ids=[f"{n}-{'nchw' if l else 'tf'}" for n, l in CASE_LAYOUTS])
def test_op_matches_tensorflow(name, nchw):
    got, want = run_case(name, nchw), _outputs(name)
    assert len(got) == len(want), f"{name}: {len(got)} outputs, TF gave {len(want)}"
    for g, w in zip(got, want):
        assert_matches(name, g, w)


def test_every_supported_op_has_a_reference_case():
    tested = {c["node"]["op"] for c in CASES.values()}
    missing = sorted(set(supported_ops()) - tested - {"Const", "Placeholder"})
    assert not missing, f"ops without a TF reference case: {missing}"
