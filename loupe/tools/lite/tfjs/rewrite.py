"""Graph rewrites applied once at load time, after constant folding: fewer, cheaper steps, same results.

- **Zero padding folded into the convolution that reads it.** A ``Pad`` of zeros on the spatial axes whose
  only readers are VALID convolutions (directly, or through one ``Transpose`` as NanoDet's NCHW export
  writes it) becomes the convolutions' own ``EXPLICIT`` padding: no padded copy of the activation.
- **Hard-swish as one step.** MobileNetV3's ``x * c * relu6(x + 3)`` (four nodes: Mul, Add, Relu6, Mul;
  ``c`` = 1/6 as stored, not exactly) becomes one ``_HardSwish`` node computing ``hardswish(x) * 6c``.

A pattern is rewritten only when its inner nodes feed nothing else and are no graph output; nodes left
unread are dropped by the caller's reachability pass. Results match the unrewritten graph up to float
rounding (tests/tools/lite/test_tfjs_rewrite.py).
"""
from __future__ import annotations

import base64
from dataclasses import replace

import torch

from .model_file import Node, tensor_key

CONVS = frozenset({"Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"})
HARD_SWISH = "_HardSwish"
INTERNAL_OPS = frozenset({HARD_SWISH})  # made by the rewrites only: no model file may use them


def rewrite(order: list[Node], consts: dict[str, torch.Tensor], output_keys: list[str]) -> dict[str, Node]:
    """The graph's nodes by name after both rewrites (``order``: topological; ``consts``: folded values)."""
    nodes = {n.name: n for n in order}
    readers = _readers(order)
    protected = {k.rsplit(":", 1)[0] for k in output_keys}
    for node in order:
        if node.op in ("Pad", "PadV2") and node.name not in protected:
            _fold_pad(node, nodes, readers, consts, protected)
    for node in order:
        if node.op == "Mul" and node.name in nodes:
            _fuse_hard_swish(node, nodes, readers, consts, protected)
    return nodes


def _readers(order: list[Node]) -> dict[str, list[tuple[str, int]]]:
    """Node name -> (reader name, input position) for every use of any of its outputs."""
    found: dict[str, list[tuple[str, int]]] = {}
    for node in order:
        for position, ref in enumerate(node.inputs):
            found.setdefault(_source(ref), []).append((node.name, position))
    return found


def _source(ref: str) -> str:
    return tensor_key(ref).rsplit(":", 1)[0]


def _const_values(consts, ref: str) -> list | None:
    value = consts.get(tensor_key(ref))
    return None if value is None else value.reshape(-1).tolist()


def _fold_pad(pad: Node, nodes, readers, consts, protected) -> None:
    pads = _const_values(consts, pad.inputs[1]) if len(pad.inputs) > 1 else None
    if pads is None or len(pads) != 8 or (pad.op == "PadV2" and _const_values(consts, pad.inputs[2]) != [0.0]):
        return
    pairs = [pads[i:i + 2] for i in range(0, 8, 2)]
    users = readers.get(pad.name, [])
    if len(users) != 1 or users[0][1] != 0:
        return
    via = nodes[users[0][0]]
    perm = [0, 1, 2, 3]
    if via.op == "Transpose":
        perm = _const_values(consts, via.inputs[1]) if len(via.inputs) > 1 else None
        if perm is None or len(perm) != 4 or via.name in protected:
            return
        convs = readers.get(via.name, [])
    else:
        convs, via = users, None
    spatial = [pairs[perm[1]], pairs[perm[2]]]
    if pairs[perm[0]] != [0, 0] or pairs[perm[3]] != [0, 0] or not convs or any(
            position != 0 or nodes[name].op not in CONVS or nodes[name].attr("padding") != "VALID"
            or nodes[name].attr("data_format", "NHWC") != "NHWC" for name, position in convs):
        return
    explicit = [0, 0, *spatial[0], *spatial[1], 0, 0]
    for name, _ in convs:
        conv = nodes[name]
        attrs = {**conv.attrs, "padding": {"s": base64.b64encode(b"EXPLICIT").decode()},
                 "explicit_paddings": {"list": {"i": [str(p) for p in explicit]}}}
        inputs = conv.inputs if via is not None else (pad.inputs[0], *conv.inputs[1:])
        nodes[name] = replace(conv, inputs=inputs, attrs=attrs)
    if via is not None:
        nodes[via.name] = replace(via, inputs=(pad.inputs[0], *via.inputs[1:]))


def _fuse_hard_swish(last: Node, nodes, readers, consts, protected) -> None:
    """``last`` = Mul(Mul(x, c), Relu6(Add(x, 3))) in either operand order -> _HardSwish(x, c)."""
    if len(last.inputs) != 2:
        return
    first, second = (nodes.get(_source(ref)) for ref in last.inputs)
    if first is None or second is None:
        return
    scaled, clipped = (first, second) if second.op == "Relu6" else (second, first)
    if clipped.op != "Relu6" or scaled.op != "Mul" or len(scaled.inputs) != 2:
        return
    shifted = nodes.get(_source(clipped.inputs[0]))
    if shifted is None or shifted.op not in ("Add", "AddV2") or len(shifted.inputs) != 2:
        return
    x_add, _, three = _split_scalar(shifted.inputs, consts)
    x_mul, scale, _ = _split_scalar(scaled.inputs, consts)
    if x_add is None or x_mul is None or tensor_key(x_add) != tensor_key(x_mul) or three != 3.0:
        return
    inner = (scaled.name, clipped.name, shifted.name)
    if any(n in protected or len(readers.get(n, [])) != 1 for n in inner):
        return
    nodes[last.name] = Node(name=last.name, op=HARD_SWISH, inputs=(x_mul, scale), attrs={})


def _split_scalar(inputs, consts) -> tuple[str | None, str | None, float | None]:
    """(the non-constant input, the scalar constant's reference, its value) of a binary node, or Nones."""
    values = [_const_values(consts, ref) for ref in inputs]
    for data, const in ((0, 1), (1, 0)):
        if values[data] is None and values[const] is not None and len(values[const]) == 1:
            return inputs[data], inputs[const], float(values[const][0])
    return None, None, None
