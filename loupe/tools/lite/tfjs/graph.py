"""GraphModel: build a TF.js graph model once, then run it with PyTorch.

Loading reads model.json and shards, keeps only nodes the outputs need, sorts them
topologically, folds every constant subgraph on the CPU, checks every op is
implemented (``UnsupportedOpError`` otherwise), applies the load-time rewrites (rewrite.py),
moves constants to the device and resolves one callable per node. Running is a flat loop
over those steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .batching import split_trunk
from .layout import Act, tf
from .model_file import ModelFile, Node, load_model_file, tensor_key
from .ops import op_table, supported_ops
from .ops_tensor import build_batched_reshape
from .registry import UnsupportedOpError
from .rewrite import rewrite

_DTYPES = {"DT_FLOAT": torch.float32, "DT_INT32": torch.int32, "DT_BOOL": torch.bool,
           "DT_INT64": torch.int64}


def output_name(key: str) -> str:
    """Public name of an output tensor: ``name`` for index 0, else ``name:index``."""
    return key[:-2] if key.endswith(":0") else key


@dataclass
class Step:
    """One node to run: its callable, input keys, output keys and keys freed after it."""

    node: Node
    consts: list
    input_keys: list[str]
    run: object = None
    drop: tuple[str, ...] = ()


class GraphModel:
    """A TF.js graph model runnable on torch tensors (see ``__call__`` for layouts)."""

    def __init__(self, model: ModelFile, device: str | torch.device = "cpu", outputs=None):
        """``outputs``: the output names to compute (default: all the signature declares); nodes only
        other outputs need are not run (CenterNet's own peak-decoding head, for one)."""
        self.label = model.label
        self.device = torch.device(device)
        nodes = {n.name: n for n in model.nodes}
        placeholders = [n for n in model.nodes if n.op == "Placeholder"]
        self.input_names = [n.name for n in placeholders]
        self.input_shapes = {n.name: _declared_shape(n) for n in placeholders}
        self._input_dtypes = {n.name: _DTYPES.get(n.attr("dtype"), torch.float32) for n in placeholders}
        self._output_keys = _output_keys(model, nodes)
        if outputs is not None:
            self._output_keys = _chosen_outputs(self._output_keys, outputs, self.label)
        self.output_names = [output_name(k) for k in self._output_keys]
        order = _topological(nodes, self._output_keys, self.label)
        _check_ops(order, self.label)
        self._consts = _fold_constants(order, model.weights, self.label)
        order = _topological(rewrite(order, self._consts, self._output_keys), self._output_keys, self.label)
        self._steps = self._build_steps(order)
        batch = self.input_shapes[self.input_names[0]][0] if self.input_names else None
        self._trunk_names = split_trunk(self._steps, set(self._consts), self.input_names, batch)
        self._finish_steps()

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu", outputs=None) -> "GraphModel":
        """Read ``path`` (model.json with its shards beside it) and build the graph (``outputs``: see
        ``__init__``)."""
        return cls(load_model_file(path), device=device, outputs=outputs)

    # ----------------------------------------------------------------- building
    def _build_steps(self, order: list[Node]) -> list[Step]:
        steps = []
        for node in order:
            if node.op == "Placeholder" or f"{node.name}:0" in self._consts:
                continue
            keys = [tensor_key(i) for i in node.inputs]
            consts = [self._consts.get(k) for k in keys]
            steps.append(Step(node=node, consts=[_on(c, self.device) for c in consts], input_keys=keys))
        self._device_consts = {k: Act(_on(v, self.device)) for k, v in self._consts.items()}
        return steps

    def _finish_steps(self) -> None:
        table = op_table()
        for step in self._steps:
            in_trunk = step.node.name in self._trunk_names
            builder = build_batched_reshape if step.node.op == "Reshape" and in_trunk \
                else table[step.node.op]
            step.run = builder(step.node, step.consts)
        self._trunk = [s for s in self._steps if s.node.name in self._trunk_names]
        self._tail = [s for s in self._steps if s.node.name not in self._trunk_names]
        _set_drops(self._trunk, set(self._output_keys) | _keys_used(self._tail))
        _set_drops(self._tail, set(self._output_keys))

    # ------------------------------------------------------------------ running
    def __call__(self, inputs) -> dict[str, torch.Tensor]:
        """Run the graph.

        ``inputs``: a float32 tensor (or numpy array) shaped as ``input_shapes`` declares
        (NHWC images [N, H, W, C] for these models; any N), or a dict name -> tensor.
        Returns output name -> tensor in TF layout and dtype, batch first.
        """
        with torch.inference_mode():
            values = self._input_values(inputs)
            batch = next(iter(values.values())).tensor.shape[0] if values else 1
            values.update(self._device_consts)
            _run_steps(self._trunk, values)
            if not self._tail:
                return {output_name(k): tf(values[k]).contiguous() for k in self._output_keys}
            per_image = [self._run_tail(values, i) for i in range(batch)] if batch != 1 \
                else [self._run_tail(values, None)]
            return {output_name(k): torch.cat([p[k] for p in per_image]) for k in self._output_keys}

    def _run_tail(self, trunk_values: dict, index: int | None) -> dict[str, torch.Tensor]:
        if index is None:
            values = trunk_values
        else:
            values = {k: Act(v.tensor[index:index + 1], v.nchw) if k not in self._device_consts else v
                      for k, v in trunk_values.items()}
        _run_steps(self._tail, values)
        return {k: tf(values[k]).contiguous() for k in self._output_keys}

    def _input_values(self, inputs) -> dict[str, Act]:
        if not isinstance(inputs, dict):
            if len(self.input_names) != 1:
                raise ValueError(f"{self.label}: expected a dict of inputs {self.input_names}, "
                                 f"got one {type(inputs).__name__}")
            inputs = {self.input_names[0]: inputs}
        missing = [n for n in self.input_names if n not in inputs]
        if missing:
            raise ValueError(f"{self.label}: missing inputs {missing}; expected {self.input_names}")
        return {f"{n}:0": Act(self._prepare(n, inputs[n])) for n in self.input_names}

    def _prepare(self, name: str, value) -> torch.Tensor:
        tensor = torch.from_numpy(np.asarray(value)) if not isinstance(value, torch.Tensor) else value
        declared = self.input_shapes[name]
        if tensor.dim() != len(declared) or any(
                d is not None and d != s for d, s in zip(declared[1:], tensor.shape[1:])):
            raise ValueError(f"{self.label}: input {name!r} expects shape {declared} "
                             f"(None = any batch), got {tuple(tensor.shape)}")
        return tensor.to(device=self.device, dtype=self._input_dtypes[name])


# ---------------------------------------------------------------------- helpers
def _on(value, device):
    return None if value is None else value.to(device)


def _declared_shape(node: Node) -> tuple:
    dims = node.attr("shape", ())
    return tuple(None if d < 0 else d for d in dims) if dims else (None,)


def _output_keys(model: ModelFile, nodes: dict[str, Node]) -> list[str]:
    outputs = model.signature.get("outputs") or {}
    keys = [tensor_key(spec.get("name", name)) for name, spec in outputs.items()]
    keys = [k for k in keys if k.rsplit(":", 1)[0] in nodes]
    if keys:
        return keys
    consumed = {tensor_key(i).rsplit(":", 1)[0] for n in nodes.values() for i in n.inputs}
    return [f"{n.name}:0" for n in nodes.values() if n.name not in consumed and n.op != "Const"]


def _chosen_outputs(keys: list[str], names, label: str) -> list[str]:
    by_name = {output_name(k): k for k in keys}
    chosen = [by_name.get(n.removesuffix(":0")) for n in names]
    missing = [n for n, k in zip(names, chosen) if k is None]
    if missing:
        raise ValueError(f"{label}: no output {', '.join(map(repr, missing))}; "
                         f"it has {', '.join(sorted(by_name))}")
    return chosen


def _topological(nodes: dict[str, Node], output_keys: list[str], label: str) -> list[Node]:
    """Nodes the outputs depend on, each after all of its inputs (iterative DFS)."""
    order, state = [], {}
    for key in output_keys:
        stack = [(key.rsplit(":", 1)[0], False)]
        while stack:
            name, done = stack.pop()
            if done:
                state[name] = 2
                order.append(nodes[name])
                continue
            if state.get(name):
                continue
            if name not in nodes:
                raise ValueError(f"{label}: a node refers to missing input {name!r}")
            state[name] = 1
            stack.append((name, True))
            for ref in reversed(nodes[name].inputs):
                source = tensor_key(ref).rsplit(":", 1)[0]
                if not state.get(source):
                    stack.append((source, False))
    return order


def _check_ops(order: list[Node], label: str) -> None:
    supported = set(supported_ops())
    for node in order:
        if node.op not in supported:
            raise UnsupportedOpError(
                f"{label}: node {node.name!r} uses op {node.op!r}, which the TF.js runner does "
                f"not implement (supported: {', '.join(supported_ops())})")


def _fold_constants(order: list[Node], weights: dict, label: str) -> dict[str, torch.Tensor]:
    """Evaluate Const nodes and every node fed only by constants; key "name:index"."""
    table, consts = op_table(), {}
    for node in order:
        if node.op == "Const":
            if node.name not in weights:
                raise ValueError(f"{label}: Const node {node.name!r} has no value in the weights")
            consts[f"{node.name}:0"] = torch.from_numpy(np.ascontiguousarray(weights[node.name]))
            continue
        keys = [tensor_key(i) for i in node.inputs]
        if node.op == "Placeholder" or not keys or not all(k in consts for k in keys):
            continue
        values = [consts[k] for k in keys]
        result = table[node.op](node, values)([Act(v) for v in values])
        for index, act in enumerate(result if isinstance(result, list) else [result]):
            consts[f"{node.name}:{index}"] = tf(act).contiguous()
    return consts


def _keys_used(steps: list[Step]) -> set[str]:
    return {k for s in steps for k in s.input_keys}


def _set_drops(steps: list[Step], keep: set[str]) -> None:
    """Record on each step the keys whose last reader it is (freed to save memory)."""
    last = {}
    for i, step in enumerate(steps):
        for k in step.input_keys:
            last[k] = i
    for i, step in enumerate(steps):
        step.drop = tuple(k for k in set(step.input_keys) if last[k] == i and k not in keep)


def _run_steps(steps: list[Step], values: dict[str, Act]) -> None:
    for step in steps:
        result = step.run([values[k] for k in step.input_keys])
        name = step.node.name
        if isinstance(result, Act):
            values[f"{name}:0"] = result
        else:
            for index, act in enumerate(result):
                values[f"{name}:{index}"] = act
        for k in step.drop:
            values.pop(k, None)
