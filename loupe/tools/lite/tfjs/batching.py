"""Which nodes of a batch-1 graph may run on a whole batch at once.

TF.js graphs are usually exported with a fixed batch of 1, and their post-processing
may bake that in (CenterNet's BatchGather adds constant per-image offsets). The runner
therefore splits the graph: the *trunk* (nodes whose ops treat dim 0 as an independent
batch axis and whose inputs all come from the trunk or constants) runs batched; every
other node (the *tail*) runs once per image on slices [i:i+1] of the trunk values.
"""
from __future__ import annotations

from .ops_math import BINARY, UNARY

_ALWAYS_SAFE = set(BINARY) | set(UNARY) | {
    "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative",
    "Conv2DBackpropInput", "BiasAdd", "MaxPool", "AvgPool", "ResizeBilinear",
    "ResizeNearestNeighbor", "LeakyRelu", "Prelu", "AddN", "Cast", "Softmax", "LogSoftmax", "_HardSwish",
}


def _first(consts, index):
    value = consts[index] if index < len(consts) else None
    return None if value is None else value.reshape(-1).tolist()


def batch_safe(node, consts) -> bool:
    """True when ``node`` maps a batch of N to N independent results (given trunk inputs)."""
    op = node.op
    if op in _ALWAYS_SAFE:
        return True
    if op in ("Mean", "Sum", "Max", "Min", "Prod"):
        axes = _first(consts, 1)
        return axes is not None and 0 not in axes and -4 not in axes
    if op == "ConcatV2":
        axis = _first(consts, len(consts) - 1)
        return axis is not None and axis[0] != 0
    if op in ("Pad", "PadV2", "MirrorPad"):
        pads = _first(consts, 1)
        return pads is not None and pads[:2] == [0, 0]
    if op == "Reshape":
        shape = _first(consts, 1)
        return shape is not None and len(shape) > 0 and shape[0] == 1
    if op in ("MatMul", "_FusedMatMul"):  # rows of a are the batch when b is a constant
        return len(consts) > 1 and consts[1] is not None and not node.attr("transpose_a", False)
    if op == "Transpose":
        perm = _first(consts, 1)
        return perm is not None and perm[0] == 0
    return False


def split_trunk(steps, const_keys: set[str], input_names, declared_batch: int | None) -> set[str]:
    """Names of the trunk nodes among ``steps`` (in topological order).

    ``steps`` items need ``.node``, ``.consts`` and ``.input_keys`` ("name:index").
    With a declared batch other than 1 (dynamic, -1) every node counts as trunk.
    """
    if declared_batch != 1:
        return {s.node.name for s in steps}
    trunk: set[str] = set(input_names)
    for step in steps:
        sources = [k.rsplit(":", 1)[0] for k in step.input_keys if k not in const_keys]
        if batch_safe(step.node, step.consts) and all(s in trunk for s in sources):
            trunk.add(step.node.name)
    return trunk
