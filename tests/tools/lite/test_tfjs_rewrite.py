"""The TF.js runner's load-time rewrites (loupe/tools/lite/tfjs/rewrite.py) on tiny graphs: each pattern is
rewritten, the result is what the unrewritten ops compute, and a pattern with an outside reader is left."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from loupe.tools.lite.tfjs import GraphModel, UnsupportedOpError


def _write(folder: Path, nodes: list[dict], weights: dict[str, np.ndarray]) -> Path:
    manifest = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in weights.items()]
    (folder / "m.bin").write_bytes(b"".join(v.tobytes() for v in weights.values()))
    doc = {"format": "graph-model", "modelTopology": {"node": nodes},
           "weightsManifest": [{"paths": ["m.bin"], "weights": manifest}]}
    (folder / "m.json").write_text(json.dumps(doc))
    return folder / "m.json"


def _input(shape) -> dict:
    return {"name": "x", "op": "Placeholder",
            "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": str(d)} for d in shape]}}}}


def _const(name: str, dtype: str = "DT_FLOAT") -> dict:
    return {"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}}}


def _conv(name: str, op: str, source: str, kernel: str, stride: int = 1) -> dict:
    return {"name": name, "op": op, "input": [source, kernel],
            "attr": {"padding": {"s": base64.b64encode(b"VALID").decode()},
                     "strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}}}}


def _ops(model: GraphModel) -> list[str]:
    return [step.node.op for step in model._steps]


def _nchw_pad(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    return F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom))


def test_zero_pad_folds_into_the_convolutions_reading_it(tmp_path):
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    nodes = [_input([1, 7, 6, 2]), _const("k"), _const("pads", "DT_INT32"),
             {"name": "pad", "op": "Pad", "input": ["x", "pads"]}, _conv("conv", "Conv2D", "pad", "k", stride=2)]
    pads = np.array([[0, 0], [1, 2], [0, 1], [0, 0]], np.int32)
    model = GraphModel.load(_write(tmp_path, nodes, {"k": kernel, "pads": pads}))
    assert "Pad" not in _ops(model)
    x = torch.from_numpy(rng.standard_normal((1, 7, 6, 2)).astype(np.float32))
    want = F.conv2d(_nchw_pad(x, 1, 2, 0, 1), torch.from_numpy(kernel).permute(3, 2, 0, 1), stride=2)
    torch.testing.assert_close(model(x)["conv"], want.permute(0, 2, 3, 1))


def test_pad_through_a_layout_transpose_folds_into_a_depthwise_conv(tmp_path):
    """NanoDet's export: Pad in NCHW, Transpose to NHWC, then the conv; uneven pads take the shifted kernel."""
    rng = np.random.default_rng(1)
    kernel = rng.standard_normal((3, 3, 3, 1)).astype(np.float32)
    nodes = [_input([1, 3, 8, 8]), _const("k"), _const("pads", "DT_INT32"), _const("perm", "DT_INT32"),
             {"name": "pad", "op": "Pad", "input": ["x", "pads"]},
             {"name": "nhwc", "op": "Transpose", "input": ["pad", "perm"]},
             _conv("conv", "DepthwiseConv2dNative", "nhwc", "k", stride=2)]
    weights = {"k": kernel, "pads": np.array([[0, 0], [0, 0], [0, 1], [1, 2]], np.int32),
               "perm": np.array([0, 2, 3, 1], np.int32)}
    model = GraphModel.load(_write(tmp_path, nodes, weights))
    assert "Pad" not in _ops(model)
    x = torch.from_numpy(rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    weight = torch.from_numpy(kernel).permute(2, 3, 0, 1).reshape(3, 1, 3, 3)
    want = F.conv2d(F.pad(x, (1, 2, 0, 1)), weight, stride=2, groups=3)
    torch.testing.assert_close(model(x)["conv"], want.permute(0, 2, 3, 1))


def test_pad_with_another_reader_or_a_value_is_kept(tmp_path):
    rng = np.random.default_rng(2)
    kernel = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
    nodes = [_input([1, 5, 5, 2]), _const("k"), _const("pads", "DT_INT32"), _const("minus"),
             {"name": "pad", "op": "Pad", "input": ["x", "pads"]}, _conv("conv", "Conv2D", "pad", "k"),
             {"name": "relu", "op": "Relu", "input": ["pad"]},
             {"name": "padv2", "op": "PadV2", "input": ["x", "pads", "minus"]}, _conv("conv2", "Conv2D", "padv2", "k")]
    pads = np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)
    model = GraphModel.load(_write(tmp_path, nodes, {"k": kernel, "pads": pads, "minus": np.array(-1.0, np.float32)}))
    assert _ops(model).count("Pad") == 1 and _ops(model).count("PadV2") == 1
    x = torch.from_numpy(rng.standard_normal((1, 5, 5, 2)).astype(np.float32))
    got = model(x)
    weight = torch.from_numpy(kernel).permute(3, 2, 0, 1)
    torch.testing.assert_close(got["conv"], F.conv2d(_nchw_pad(x, 1, 1, 1, 1), weight).permute(0, 2, 3, 1))
    padded = F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), value=-1.0)
    torch.testing.assert_close(got["conv2"], F.conv2d(padded, weight).permute(0, 2, 3, 1))


def _hard_swish_nodes(extra_reader: bool) -> list[dict]:
    nodes = [_input([1, 4, 4, 3]), _const("sixth"), _const("three"),
             {"name": "mul", "op": "Mul", "input": ["sixth", "x"]},
             {"name": "add", "op": "AddV2", "input": ["x", "three"]},
             {"name": "relu6", "op": "Relu6", "input": ["add"]},
             {"name": "out", "op": "Mul", "input": ["mul", "relu6"]}]
    if extra_reader:
        nodes.append({"name": "also", "op": "Sigmoid", "input": ["add"]})
    return nodes


def test_hard_swish_becomes_one_step(tmp_path):
    weights = {"sixth": np.array(0.1666259765625, np.float32), "three": np.array(3.0, np.float32)}
    model = GraphModel.load(_write(tmp_path, _hard_swish_nodes(False), weights))
    assert _ops(model) == ["_HardSwish"]
    x = torch.linspace(-5, 5, 48).reshape(1, 4, 4, 3)
    torch.testing.assert_close(model(x)["out"], x * 0.1666259765625 * (x + 3).clamp(0, 6))


def test_hard_swish_with_an_outside_reader_is_left_as_is(tmp_path):
    weights = {"sixth": np.array(0.1666259765625, np.float32), "three": np.array(3.0, np.float32)}
    model = GraphModel.load(_write(tmp_path, _hard_swish_nodes(True), weights))
    assert "_HardSwish" not in _ops(model)
    x = torch.linspace(-5, 5, 48).reshape(1, 4, 4, 3)
    got = model(x)
    torch.testing.assert_close(got["out"], x * 0.1666259765625 * (x + 3).clamp(0, 6))
    torch.testing.assert_close(got["also"], torch.sigmoid(x + 3))


def test_a_model_file_may_not_use_an_internal_op(tmp_path):
    nodes = [_input([1, 4]), _const("c"), {"name": "y", "op": "_HardSwish", "input": ["x", "c"]}]
    with pytest.raises(UnsupportedOpError, match="_HardSwish"):
        GraphModel.load(_write(tmp_path, nodes, {"c": np.array(1.0, np.float32)}))
