"""Regenerate the TF reference arrays for the TF.js runner tests. Needs TensorFlow.

Loupe never depends on TensorFlow: run this in a throwaway venv outside the repo:

    python3 -m venv /tmp/tfref && /tmp/tfref/bin/pip install tensorflow-cpu
    /tmp/tfref/bin/python tests/data/tfjs/make_reference.py --models /path/to/models

Writes next to this file: ``ops.npz`` + ``op_cases.json`` (one tiny case per op, from
op_cases.py) and ``model_<name>.npz`` (outputs for one deterministic image; big
outputs stored subsampled as the tests expect). TF.js-only fused ops are expanded
into plain TF ops (Conv2D/DepthwiseConv2dNative/MatMul + BiasAdd + activation), so
the fused paths of the runner are checked against an independent composition.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODELS = {  # model name: input value range (low, high) of the test image
    "centernet": (0.0, 255.0), "blazeface": (-1.0, 1.0), "blazeface-back": (-1.0, 1.0),
    "blazeface-front": (-1.0, 1.0), "selfie": (-1.0, 1.0), "meet": (0.0, 1.0), "nanodet": (0.0, 1.0),
}
NP_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
TF_TYPES = {"float32": "DT_FLOAT", "int32": "DT_INT32", "bool": "DT_BOOL", "int64": "DT_INT64"}


# ----------------------------------------------------------------- shared helpers (numpy)
def image_for(shape, low: float, high: float) -> np.ndarray:
    """The test image (image64.npy, uint8 64x64x3) resized nearest to ``shape`` NHWC/NCHW."""
    small = np.load(HERE / "image64.npy").astype(np.float32) / 255.0
    nchw = shape[1] == 3 and shape[3] != 3
    h, w = (shape[2], shape[3]) if nchw else (shape[1], shape[2])
    rows, cols = (np.arange(h) * 64) // h, (np.arange(w) * 64) // w
    img = small[rows][:, cols] * (high - low) + low
    img = img.transpose(2, 0, 1) if nchw else img
    return img[None].astype(np.float32)


def subsample(name: str, array: np.ndarray) -> np.ndarray:
    """What the tests compare for a big output: every 8th/4th element along big axes."""
    if array.ndim == 4 and array.shape[1] * array.shape[2] > 4096:
        return array[:, ::8, ::8, :]
    if array.ndim == 4 and array.shape[1] * array.shape[2] > 1024:
        return array[:, ::4, ::4, :]
    if array.ndim == 3 and array.shape[1] > 1000:
        return array[:, ::7, :]
    return array


def make_image64() -> np.ndarray:
    """A synthetic 64x64 RGB scene: gradient sky, a disc, bars and a face-like blob."""
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    img = np.stack([xx * 3, yy * 3, 255 - xx * 2], -1)
    img[((yy - 30) ** 2 + (xx - 22) ** 2) < 100] = [230, 190, 160]
    img[((yy - 27) ** 2 + (xx - 19) ** 2) < 4] = [20, 20, 20]
    img[((yy - 27) ** 2 + (xx - 26) ** 2) < 4] = [20, 20, 20]
    img[40:62, 38:58] = [40, 90, 200]
    img[10:14, 30:62] = [250, 250, 30]
    return img.clip(0, 255).astype(np.uint8)


# ------------------------------------------------------------------------- TF graphs
def expand_fused(node: dict) -> list[dict]:
    """Rewrite TF.js fused conv/matmul nodes as plain TF nodes with the same output name."""
    import base64
    if node["op"] == "Prelu":
        return prelu_nodes(node["name"], node["input"][0], node["input"][1], {"type": "DT_FLOAT"})
    if node["op"] not in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul"):
        return [node]
    attr = dict(node.get("attr", {}))
    ops = [base64.b64decode(v).decode() for v in attr.pop("fused_ops")["list"].get("s", [])]
    num_args = int(attr.pop("num_args", {"i": "0"})["i"])
    alpha = attr.pop("leakyrelu_alpha", {"f": 0.2})
    attr.pop("epsilon", None)
    base = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
            "_FusedMatMul": "MatMul"}[node["op"]]
    inputs, args = node["input"][:2], node["input"][2:2 + num_args]
    t = attr.get("T", {"type": "DT_FLOAT"})
    out = [{"name": node["name"] + "/base", "op": base, "input": inputs, "attr": attr}]
    last, used = out[0]["name"], 0
    for op in ops:
        name = node["name"] + "/" + op
        if op == "BiasAdd":
            out.append({"name": name, "op": "BiasAdd", "input": [last, args[used]], "attr": {"T": t}})
            used += 1
        elif op == "Prelu":
            out += prelu_nodes(name, last, args[used], t)
            used += 1
        else:
            extra = {"alpha": alpha} if op == "LeakyRelu" else {}
            out.append({"name": name, "op": op, "input": [last], "attr": {"T": t, **extra}})
        last = name
    out[-1]["name"] = node["name"]
    return out


def prelu_nodes(name: str, x: str, alpha: str, t: dict) -> list[dict]:
    """TF.js Prelu as plain TF: relu(x) - alpha * relu(-x); the last node is ``name``."""
    return [{"name": name + "/neg", "op": "Neg", "input": [x], "attr": {"T": t}},
            {"name": name + "/rn", "op": "Relu", "input": [name + "/neg"], "attr": {"T": t}},
            {"name": name + "/an", "op": "Mul", "input": [alpha, name + "/rn"], "attr": {"T": t}},
            {"name": name + "/rp", "op": "Relu", "input": [x], "attr": {"T": t}},
            {"name": name, "op": "Sub", "input": [name + "/rp", name + "/an"], "attr": {"T": t}}]


def add_type_attrs(node: dict, dtypes: list[str]) -> None:
    """Fill missing type/number attrs (T, Tidx, N, ...) from the input dtypes via the OpDef."""
    import tensorflow  # noqa: F401  (registers the op defs)
    from tensorflow.python.framework import op_def_registry
    op_def = op_def_registry.get(node["op"])
    if op_def is None:
        raise KeyError(f"TensorFlow has no op {node['op']!r}")
    attr, k = node.setdefault("attr", {}), 0
    for pos, arg in enumerate(op_def.input_arg):
        count = 1
        if arg.number_attr:
            count = len(dtypes) - k - (len(op_def.input_arg) - pos - 1)
            attr.setdefault(arg.number_attr, {"i": str(count)})
        if arg.type_attr and k < len(dtypes):
            attr.setdefault(arg.type_attr, {"type": TF_TYPES[dtypes[k]]})
        if arg.type_list_attr:
            count = len(dtypes) - k
            attr.setdefault(arg.type_list_attr, {"list": {"type": [TF_TYPES[d] for d in dtypes[k:]]}})
        k += count


def run_graph(nodes: list[dict], consts: dict, feeds: dict, fetches: list[str]):
    """Run a GraphDef (JSON nodes) with plain float32 kernels: no grappler, no oneDNN rewrites."""
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2
    from google.protobuf import json_format
    graph_def = json_format.ParseDict({"node": nodes}, tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    for node in graph_def.node:
        if node.op == "Const" and node.name in consts:
            value = consts[node.name]
            if node.attr["dtype"].type:  # TF.js stores int64 constants as int32
                value = value.astype(tf.as_dtype(node.attr["dtype"].type).as_numpy_dtype)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
            node.attr["dtype"].type = tf.as_dtype(value.dtype).as_datatype_enum
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    rewrites = rewriter_config_pb2.RewriterConfig(disable_meta_optimizer=True)
    config = tf.compat.v1.ConfigProto(graph_options=tf.compat.v1.GraphOptions(rewrite_options=rewrites))
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        return sess.run(fetches, {k + ":0": v for k, v in feeds.items()})


# -------------------------------------------------------------------------- op cases
def case_inputs(name: str, specs: list[dict]) -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = []
    for spec in specs:
        dtype = NP_DTYPES[spec["dtype"]]
        if "value" in spec:
            out.append(np.array(spec["value"], dtype=dtype).reshape(spec["shape"]))
        elif spec["dtype"] == "bool":
            out.append(rng.random(spec["shape"]) < 0.5)
        elif spec["dtype"] == "int32":
            out.append(rng.integers(int(spec["low"]), int(spec["high"]), spec["shape"]).astype(dtype))
        else:
            out.append(rng.uniform(spec["low"], spec["high"], spec["shape"]).astype(dtype))
    return out


def record_ops() -> None:
    sys.path.insert(0, str(HERE))
    from op_cases import CASES
    arrays, meta = {}, {}
    for name, case in CASES.items():
        op, attr, specs = case[:3]
        n_out = case[3] if len(case) > 3 else 1
        values = case_inputs(name, specs)
        node = {"name": "op", "op": op, "input": [f"in{k}" for k in range(len(specs))],
                "attr": copy.deepcopy(attr)}
        graph = [{"name": f"in{k}", "op": "Const" if s["const"] else "Placeholder",
                  "attr": {"dtype": {"type": TF_TYPES[s["dtype"]]}}} for k, s in enumerate(specs)]
        tf_nodes = expand_fused(copy.deepcopy(node))
        for n in tf_nodes:
            if n["op"] == op:
                add_type_attrs(n, [s["dtype"] for s in specs])
        if op in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul", "Prelu"):
            add_type_attrs(tf_nodes[0], [s["dtype"] for s in specs[:2]])
        consts = {f"in{k}": v for k, v in enumerate(values) if specs[k]["const"]}
        feeds = {f"in{k}": v for k, v in enumerate(values) if not specs[k]["const"]}
        outs = run_graph(graph + tf_nodes, consts, feeds, [f"op:{j}" for j in range(n_out)])
        meta[name] = {"node": tf_nodes[-1] if tf_nodes[-1]["op"] == op else node,
                      "const": [s["const"] for s in specs]}
        for k, v in enumerate(values):
            arrays[f"{name}/in{k}"] = v
        for j, v in enumerate(outs):
            arrays[f"{name}/out{j}"] = np.asarray(v)
    np.savez_compressed(HERE / "ops.npz", **arrays)
    (HERE / "op_cases.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
    print(f"recorded {len(meta)} op cases")


# ----------------------------------------------------------------------------- models
def read_weights(model_json: Path, doc: dict) -> dict[str, np.ndarray]:
    """Independent shard decoder: float32/int32 and float16-quantised entries."""
    out = {}
    for group in doc["weightsManifest"]:
        blob = b"".join((model_json.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"], dtype=np.int64))
            q = (w.get("quantization") or {}).get("dtype")
            stored = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}.get(q) or NP_DTYPES[w["dtype"]]
            raw = np.frombuffer(blob, stored, count, offset).reshape(w["shape"])
            offset += raw.nbytes
            if q in ("uint8", "uint16"):
                raw = raw.astype(np.float32) * w["quantization"]["scale"] + w["quantization"]["min"]
            out[w["name"]] = raw.astype(NP_DTYPES[w["dtype"]])
    return out


def record_model(models_dir: Path, name: str) -> None:
    path = models_dir / f"{name}.json"
    doc = json.loads(path.read_text())
    weights = read_weights(path, doc)
    nodes = [n for raw in doc["modelTopology"]["node"] for n in expand_fused(copy.deepcopy(raw))]
    placeholder = next(n for n in nodes if n["op"] == "Placeholder")
    shape = [int(d["size"]) for d in placeholder["attr"]["shape"]["shape"]["dim"]]
    image = image_for(shape, *MODELS[name])
    signature = doc.get("signature") or doc.get("userDefinedMetadata", {}).get("signature", {})
    fetch = [spec["name"] if ":" in spec["name"] else spec["name"] + ":0"
             for spec in signature["outputs"].values()]
    outs = run_graph(nodes, weights, {placeholder["name"]: image}, fetch)
    arrays = {}
    for key, value in zip(fetch, outs):
        public = key[:-2] if key.endswith(":0") else key
        arrays[public] = subsample(public, np.asarray(value))
    np.savez_compressed(HERE / f"model_{name}.npz", **arrays)
    print(name, {k: v.shape for k, v in arrays.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, help="folder with centernet.json etc.")
    parser.add_argument("--skip-ops", action="store_true")
    args = parser.parse_args()
    if not (HERE / "image64.npy").exists():
        np.save(HERE / "image64.npy", make_image64())
    if not args.skip_ops:
        record_ops()
    if args.models:
        for name in MODELS:
            if (args.models / f"{name}.json").exists():
                record_model(args.models, name)


if __name__ == "__main__":
    main()
