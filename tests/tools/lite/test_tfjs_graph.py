"""Whole TF.js graph models against TensorFlow, plus GraphModel behaviour on tiny graphs.

The model tests need the human-models pack: set ``LOUPE_LITE_MODELS`` to a folder
holding centernet.json etc. (see find_test_models); otherwise they skip.
References: tests/data/tfjs/model_<name>.npz from make_reference.py.
"""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from loupe.tools.lite.tfjs import GraphModel, UnsupportedOpError

DATA = Path(__file__).resolve().parents[2] / "data" / "tfjs"
_spec = importlib.util.spec_from_file_location("tfjs_make_reference", DATA / "make_reference.py")
REFERENCE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(REFERENCE)  # numpy-only at import; TensorFlow is imported lazily there

MODEL_NAMES = ["centernet", "blazeface", "blazeface-back", "blazeface-front", "selfie", "meet", "nanodet"]


def find_test_models() -> Path | None:
    """The folder with the TF.js models (centernet.json ...): $LOUPE_LITE_MODELS (or its models/
    subfolder, for an extracted npm package), else the pulled lite pack; None when neither has them."""
    from loupe.tools.lite.pack import pack_dir

    env = os.environ.get("LOUPE_LITE_MODELS")
    candidates = ([Path(env), Path(env) / "models"] if env else []) + [pack_dir()]
    return next((folder for folder in candidates if (folder / "centernet.json").exists()), None)


MODELS_DIR = find_test_models()
needs_models = pytest.mark.skipif(
    MODELS_DIR is None, reason="TF.js models not found: run `loupe models pull` (or set LOUPE_LITE_MODELS)")


@pytest.fixture(scope="module")
def loaded():
    cache = {}

    def get(name):
        if not (MODELS_DIR / f"{name}.json").exists():
            pytest.skip(f"{name}.json is not part of the pulled lite pack (loupe/tools/lite/pack.py PACK_FILES)")
        if name not in cache:
            cache[name] = GraphModel.load(MODELS_DIR / f"{name}.json")
        return cache[name]
    return get


def _image(model: GraphModel, name: str) -> torch.Tensor:
    shape = model.input_shapes[model.input_names[0]]
    return torch.from_numpy(REFERENCE.image_for((1,) + tuple(shape[1:]), *REFERENCE.MODELS[name]))


@needs_models
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_matches_tensorflow(name, loaded):
    model = loaded(name)
    want = np.load(DATA / f"model_{name}.npz")
    got = model(_image(model, name))
    assert sorted(got) == sorted(want.files)
    for key in want.files:
        ref, out = want[key], REFERENCE.subsample(key, got[key].numpy())
        scale = max(1e-3, float(np.abs(ref).max()))
        np.testing.assert_allclose(out, ref, rtol=1e-3, atol=2e-4 * scale, err_msg=f"{name}:{key}")


@needs_models
@pytest.mark.parametrize("name", ["centernet", "blazeface", "meet"])
def test_batch_equals_single_images(name, loaded):
    model = loaded(name)
    one = _image(model, name)
    two = torch.flip(one, dims=[2])
    both = model(torch.cat([one, two]))
    for image, index in ((one, 0), (two, 1)):
        single = model(image)
        for key, value in single.items():
            scale = max(1.0, float(value.abs().max()))
            torch.testing.assert_close(both[key][index:index + 1], value, rtol=1e-3, atol=1e-4 * scale,
                                       msg=lambda m: f"{name}:{key} image {index}: {m}")


@needs_models
def test_centernet_declares_its_signature(loaded):
    model = loaded("centernet")
    assert model.input_names == ["tower_0/images"]
    assert model.input_shapes["tower_0/images"] == (1, 512, 512, 3)
    assert set(model.output_names) == {"tower_0/wh", "tower_0/keypoints", "tower_0/detections"}


# ------------------------------------------------------------- tiny synthetic graphs
def _write_model(folder: Path, nodes: list[dict], weights: dict[str, np.ndarray]) -> Path:
    manifest = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in weights.items()]
    (folder / "m.bin").write_bytes(b"".join(v.tobytes() for v in weights.values()))
    doc = {"format": "graph-model", "modelTopology": {"node": nodes},
           "weightsManifest": [{"paths": ["m.bin"], "weights": manifest}]}
    path = folder / "m.json"
    path.write_text(json.dumps(doc))
    return path


def _placeholder(shape):
    return {"name": "x", "op": "Placeholder",
            "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": {"shape": {"dim": [{"size": str(d)} for d in shape]}}}}


def _const(name, dtype="DT_FLOAT"):
    return {"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}}}


def test_unsupported_op_is_named_at_load(tmp_path):
    nodes = [_placeholder([-1, 4]), {"name": "foo/bar", "op": "Einsum", "input": ["x", "x"], "attr": {}}]
    path = _write_model(tmp_path, nodes, {})
    with pytest.raises(UnsupportedOpError, match=r"m.json: node 'foo/bar' uses op 'Einsum'.*supported: .*Conv2D"):
        GraphModel.load(path)


def test_tiny_graph_folds_constants_and_runs_batched(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4) / 10
    nodes = [_placeholder([-1, 5, 5, 3]), _const("w"), _const("two"), _const("shape", "DT_INT32"),
             {"name": "w2", "op": "Mul", "input": ["w", "two"]},
             {"name": "conv", "op": "Conv2D", "input": ["x", "w2"],
              "attr": {"padding": {"s": "U0FNRQ=="}, "strides": {"list": {"i": ["1", "1", "1", "1"]}}}},
             {"name": "out", "op": "Reshape", "input": ["conv", "shape"]}]
    weights = {"w": w, "two": np.array(2.0, np.float32), "shape": np.array([-1, 100], np.int32)}
    model = GraphModel.load(_write_model(tmp_path, nodes, weights))
    assert model.input_shapes == {"x": (None, 5, 5, 3)} and model.output_names == ["out"]
    x = torch.rand(3, 5, 5, 3)
    got = model(x)["out"]
    want = (x.reshape(-1, 3) @ torch.from_numpy(w[0, 0] * 2)).reshape(3, 100)
    torch.testing.assert_close(got, want)


def test_chosen_outputs_run_only_the_nodes_they_need(tmp_path):
    nodes = [_placeholder([1, 4]), {"name": "a", "op": "Relu", "input": ["x"]},
             {"name": "b", "op": "Sigmoid", "input": ["x"]}, {"name": "c", "op": "Exp", "input": ["b"]}]
    path = _write_model(tmp_path, nodes, {})
    model = GraphModel.load(path, outputs=["a"])
    assert model.output_names == ["a"] and [s.node.name for s in model._steps] == ["a"]
    x = torch.tensor([[-1.0, 0.0, 1.0, 2.0]])
    assert list(model(x)) == ["a"] and torch.equal(model(x)["a"], torch.relu(x))
    with pytest.raises(ValueError, match=r"no output 'd'; it has a, c"):
        GraphModel.load(path, outputs=["d"])


def test_wrong_input_shape_names_expected_and_actual(tmp_path):
    nodes = [_placeholder([1, 4, 4, 3]), {"name": "y", "op": "Relu", "input": ["x"]}]
    model = GraphModel.load(_write_model(tmp_path, nodes, {}))
    with pytest.raises(ValueError, match=r"expects shape \(1, 4, 4, 3\).*got \(1, 4, 4, 2\)"):
        model(torch.zeros(1, 4, 4, 2))
