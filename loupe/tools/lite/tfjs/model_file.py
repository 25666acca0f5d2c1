"""Read a TF.js graph model: ``model.json`` plus its binary weight shards.

The JSON holds ``modelTopology`` (a GraphDef written as JSON: ``node`` list of
``{name, op, input, attr}``) and ``weightsManifest`` (groups of ``paths`` to shard
files and ``weights`` entries ``{name, shape, dtype, quantization?}``). The shards of
one group are concatenated and the weights lie back to back in manifest order.

Nothing here imports torch: weights come out as numpy arrays in TF layout.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_NP_DTYPES = {
    "float32": np.float32, "int32": np.int32, "bool": np.bool_,
    "float16": np.float16, "uint8": np.uint8, "int64": np.int64,
}
_TF_DTYPES = {
    "DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_,
    "DT_HALF": np.float16, "DT_INT64": np.int64, "DT_UINT8": np.uint8,
    "DT_INT8": np.int8, "DT_INT16": np.int16, "DT_UINT16": np.uint16,
    "DT_DOUBLE": np.float64,
}


class ModelFileError(ValueError):
    """The model.json or its shards are not what a TF.js graph model should be."""


def tensor_key(ref: str) -> str:
    """Normalise an input reference ``name`` / ``name:1`` to ``name:index``."""
    name, _, index = ref.rpartition(":")
    if name and index.isdigit():
        return f"{name}:{index}"
    return f"{ref}:0"


@dataclass(frozen=True)
class Node:
    """One GraphDef node; ``inputs`` are data inputs (control inputs ``^x`` dropped)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    attrs: dict = field(default_factory=dict)

    def attr(self, key: str, default=None):
        """Decode attr ``key`` from its JSON form (i/f/b/s/type/list) or return ``default``."""
        raw = self.attrs.get(key)
        return default if raw is None else decode_attr(raw)


@dataclass(frozen=True)
class ModelFile:
    """A parsed graph model: nodes in file order, weights by node name (numpy, TF layout)."""

    path: Path
    nodes: tuple[Node, ...]
    weights: dict[str, np.ndarray]
    signature: dict

    @property
    def label(self) -> str:
        return self.path.name


def decode_attr(raw: dict):
    """Turn one JSON attr value into a Python value (int, float, bool, str, list, dtype)."""
    if "list" in raw:
        inner = raw["list"]
        for kind in ("i", "f", "b", "s", "type"):
            if kind in inner:
                return [decode_attr({kind: v}) for v in inner[kind]]
        return []
    if "i" in raw:
        return int(raw["i"])
    if "f" in raw:
        return float(raw["f"])
    if "b" in raw:
        return bool(raw["b"])
    if "s" in raw:
        return base64.b64decode(raw["s"]).decode("utf-8")
    if "type" in raw:
        return raw["type"]
    if "shape" in raw:
        return tuple(int(d.get("size", -1)) for d in raw["shape"].get("dim", []))
    if "tensor" in raw:
        return raw["tensor"]
    return raw


def load_model_file(path: str | Path) -> ModelFile:
    """Read ``path`` (model.json) and every shard it names; return a ModelFile."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: expected a readable TF.js model.json, got {exc}") from exc
    topology = doc.get("modelTopology") or {}
    if "node" not in topology:
        raise ModelFileError(f"{path}: expected modelTopology.node (a graph model), "
                             f"got keys {sorted(topology)}; layers models are not supported")
    nodes = tuple(_node_from_json(n) for n in topology["node"])
    weights = {}
    for group in doc.get("weightsManifest", []):
        weights.update(_read_group(path.parent, group))
    for node in nodes:
        if node.op == "Const" and node.name not in weights:
            weights[node.name] = inline_tensor(node.attr("value", {}))
    signature = doc.get("signature") or (doc.get("userDefinedMetadata") or {}).get("signature") or {}
    return ModelFile(path=path, nodes=nodes, weights=weights, signature=signature)


def _node_from_json(raw: dict) -> Node:
    inputs = tuple(i for i in raw.get("input", []) if not i.startswith("^"))
    return Node(name=raw["name"], op=raw["op"], inputs=inputs, attrs=raw.get("attr", {}))


def _read_group(folder: Path, group: dict) -> dict[str, np.ndarray]:
    try:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
    except OSError as exc:
        raise ModelFileError(f"{folder}: weight shard {group['paths']} unreadable: {exc}") from exc
    out, offset = {}, 0
    for spec in group["weights"]:
        array, offset = _read_weight(blob, offset, spec)
        out[spec["name"]] = array
    if offset != len(blob):
        raise ModelFileError(f"{group['paths']}: manifest describes {offset} bytes, shards hold {len(blob)}")
    return out


def _read_weight(blob: bytes, offset: int, spec: dict) -> tuple[np.ndarray, int]:
    """Decode one manifest entry at ``offset``; return (array float32/int32/bool, next offset)."""
    shape = tuple(int(s) for s in spec["shape"])
    count = int(np.prod(shape, dtype=np.int64))
    quant = spec.get("quantization")
    stored = quant["dtype"] if quant else spec["dtype"]
    if stored not in _NP_DTYPES and stored != "uint16":
        raise ModelFileError(f"weight {spec['name']!r}: dtype {stored!r} unsupported "
                             f"(expected one of {sorted(_NP_DTYPES)} or uint16)")
    np_dtype = np.uint16 if stored == "uint16" else _NP_DTYPES[stored]
    nbytes = count * np.dtype(np_dtype).itemsize
    if offset + nbytes > len(blob):
        raise ModelFileError(f"weight {spec['name']!r}: needs bytes {offset}..{offset + nbytes}, "
                             f"shards hold {len(blob)}")
    raw = np.frombuffer(blob, dtype=np_dtype, count=count, offset=offset).reshape(shape)
    return _dequantise(raw, spec, quant), offset + nbytes


def _dequantise(raw: np.ndarray, spec: dict, quant: dict | None) -> np.ndarray:
    target = _NP_DTYPES.get(spec["dtype"], np.float32)
    if quant is None:
        return raw.copy()
    if quant["dtype"] == "float16":
        return raw.astype(np.float32).astype(target)
    scale, low = quant.get("scale"), quant.get("min")
    if scale is None or low is None:
        raise ModelFileError(f"weight {spec['name']!r}: affine {quant['dtype']} quantisation "
                             f"needs scale and min, got {quant}")
    return (raw.astype(np.float32) * np.float32(scale) + np.float32(low)).astype(target)


def inline_tensor(tensor: dict) -> np.ndarray:
    """Decode a TensorProto written as JSON (tensorContent base64 or *Val lists)."""
    dtype = _TF_DTYPES.get(tensor.get("dtype", "DT_FLOAT"), np.float32)
    shape = tuple(int(d.get("size", 0)) for d in tensor.get("tensorShape", {}).get("dim", []))
    if "tensorContent" in tensor:
        data = np.frombuffer(base64.b64decode(tensor["tensorContent"]), dtype=dtype)
        return data.reshape(shape).copy()
    for key in ("floatVal", "intVal", "int64Val", "boolVal", "halfVal", "doubleVal"):
        if key in tensor:
            values = np.asarray(tensor[key]).astype(dtype)
            return np.broadcast_to(values, shape).copy() if values.size == 1 else values.reshape(shape)
    return np.zeros(shape, dtype=dtype)
