"""Elementwise math, reductions, casts and matrix products with TF semantics.

Elementwise ops keep NCHW activations NCHW (operands are re-arranged to broadcast
like TF would against NHWC, see layout.common_layout). Integer division follows TF:
``FloorDiv``/``FloorMod`` round toward -inf (the remainder takes the divisor's sign);
``Div`` on integers truncates toward zero; ``Cast`` float->int truncates toward zero.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .layout import Act, axis_for, common_layout, tf
from .ops_conv import fused_parts
from .registry import const_list, register, unsupported

TORCH_DTYPES = {
    "DT_FLOAT": torch.float32, "DT_INT32": torch.int32, "DT_INT64": torch.int64,
    "DT_BOOL": torch.bool, "DT_HALF": torch.float16, "DT_UINT8": torch.uint8,
    "DT_INT8": torch.int8, "DT_INT16": torch.int16, "DT_DOUBLE": torch.float64,
}


def _div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return a / b
    return torch.div(a, b, rounding_mode="trunc")


def _floor_div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return torch.floor(a / b)
    return torch.div(a, b, rounding_mode="floor")


BINARY = {
    "Add": torch.add, "AddV2": torch.add, "Sub": torch.sub, "Mul": torch.mul,
    "RealDiv": torch.div, "Div": _div, "DivNoNan": None, "FloorDiv": _floor_div,
    "FloorMod": torch.remainder, "Maximum": torch.maximum, "Minimum": torch.minimum,
    "Pow": torch.pow, "SquaredDifference": lambda a, b: (a - b) * (a - b),
    "Equal": torch.eq, "NotEqual": torch.ne, "Less": torch.lt, "LessEqual": torch.le,
    "Greater": torch.gt, "GreaterEqual": torch.ge,
    "LogicalAnd": torch.logical_and, "LogicalOr": torch.logical_or,
}
BINARY["DivNoNan"] = lambda a, b: torch.where(b == 0, torch.zeros_like(a / b), a / b)

UNARY = {
    "Relu": torch.relu, "Relu6": lambda x: x.clamp(0.0, 6.0), "Sigmoid": torch.sigmoid,
    "Tanh": torch.tanh, "Elu": F.elu, "Selu": F.selu, "Softplus": F.softplus,
    "Exp": torch.exp, "Log": torch.log, "Sqrt": torch.sqrt, "Rsqrt": torch.rsqrt,
    "Square": torch.square, "Neg": torch.neg, "Abs": torch.abs, "Floor": torch.floor,
    "Ceil": torch.ceil, "Round": torch.round, "Sign": torch.sign, "Reciprocal": torch.reciprocal,
    "Erf": torch.erf, "Sin": torch.sin, "Cos": torch.cos, "LogicalNot": torch.logical_not,
    "Identity": lambda x: x, "StopGradient": lambda x: x, "Snapshot": lambda x: x,
    "ZerosLike": torch.zeros_like, "OnesLike": torch.ones_like,
}


def _binary_builder(fn):
    def build(node, consts):
        def run(acts):
            (a, b), is_nchw = common_layout(acts[:2])
            return Act(fn(a, b), is_nchw)
        return run
    return build


def _unary_builder(fn):
    def build(node, consts):
        return lambda acts: Act(fn(acts[0].tensor), acts[0].nchw)
    return build


@register("_HardSwish")
def build_hard_swish(node, consts):
    """``x * c * relu6(x + 3)`` in one step (tfjs/rewrite.py makes these nodes); inputs (x, scalar c)."""
    factor = 6.0 * float(const_list(consts, 1, node, "scale")[0])

    def run(acts):
        x = acts[0]
        return Act(F.hardswish(x.tensor).mul_(factor), x.nchw)
    return run


def register_elementwise() -> None:
    """File every BINARY and UNARY op in the registry (called by ops.py at import)."""
    for name, fn in BINARY.items():
        register(name)(_binary_builder(fn))
    for name, fn in UNARY.items():
        register(name)(_unary_builder(fn))


@register("LeakyRelu")
def build_leaky_relu(node, consts):
    slope = node.attr("alpha", 0.2)
    return lambda acts: Act(F.leaky_relu(acts[0].tensor, slope), acts[0].nchw)


@register("Prelu")
def build_prelu(node, consts):
    def run(acts):
        (x, alpha), is_nchw = common_layout(acts[:2])
        return Act(torch.where(x > 0, x, x * alpha), is_nchw)
    return run


@register("AddN")
def build_add_n(node, consts):
    def run(acts):
        tensors, is_nchw = common_layout(acts)
        total = tensors[0]
        for t in tensors[1:]:
            total = total + t
        return Act(total, is_nchw)
    return run


@register("Select", "SelectV2")
def build_select(node, consts):
    """SelectV2 broadcasts; Select with a rank-1 condition picks whole rows (dim 0)."""
    def run(acts):
        cond = tf(acts[0])
        a, b = tf(acts[1]), tf(acts[2])
        if node.op == "Select" and cond.dim() == 1 and a.dim() > 1:
            cond = cond.reshape((-1,) + (1,) * (a.dim() - 1))
        return Act(torch.where(cond, a, b))
    return run


@register("Cast")
def build_cast(node, consts):
    dst = node.attr("DstT", "DT_FLOAT")
    if dst not in TORCH_DTYPES:
        raise unsupported(node, f"cast to {dst}")
    dtype = TORCH_DTYPES[dst]

    def run(acts):
        x = acts[0].tensor
        y = (x != 0) if dtype == torch.bool else x.to(dtype)  # float->int truncates
        return Act(y, acts[0].nchw)
    return run


REDUCE = {"Mean": torch.mean, "Sum": torch.sum, "Prod": torch.prod,
          "Max": torch.amax, "Min": torch.amin, "All": torch.all, "Any": torch.any}


def _reduce_builder(fn):
    def build(node, consts):
        axes = const_list(consts, 1, node, "reduction axes")
        keep = node.attr("keep_dims", False)

        def run(acts):
            x = acts[0]
            if not keep and x.nchw:
                x = Act(tf(x))
            dims = sorted({axis_for(x, a) for a in axes})
            t = x.tensor
            if fn in (torch.all, torch.any):
                for d in reversed(dims):
                    t = fn(t, dim=d, keepdim=keep)
                return Act(t, x.nchw)
            if not dims:
                return Act(t, x.nchw)
            if fn is torch.prod:
                for d in reversed(dims):
                    t = torch.prod(t, dim=d, keepdim=keep)
                return Act(t, x.nchw)
            return Act(fn(t, dim=dims, keepdim=keep), x.nchw)
        return run
    return build


def register_reductions() -> None:
    """File every REDUCE op in the registry (called by ops.py at import)."""
    for name, fn in REDUCE.items():
        register(name)(_reduce_builder(fn))


@register("ArgMax", "ArgMin")
def build_arg_max(node, consts):
    axis = const_list(consts, 1, node, "axis")[0]
    dtype = TORCH_DTYPES.get(node.attr("output_type", "DT_INT64"), torch.int64)
    fn = torch.argmax if node.op == "ArgMax" else torch.argmin
    return lambda acts: Act(fn(tf(acts[0]), dim=axis).to(dtype))


@register("Softmax", "LogSoftmax")
def build_softmax(node, consts):
    fn = torch.softmax if node.op == "Softmax" else torch.log_softmax
    return lambda acts: Act(fn(acts[0].tensor, dim=axis_for(acts[0], -1)), acts[0].nchw)


@register("MatMul", "_FusedMatMul", "BatchMatMul", "BatchMatMulV2")
def build_matmul(node, consts):
    adj_a = node.attr("transpose_a", node.attr("adj_x", False))
    adj_b = node.attr("transpose_b", node.attr("adj_y", False))
    bias, act = fused_parts(node, consts, 2, nchw_alpha=False) if node.op == "_FusedMatMul" \
        else (None, None)
    b_const = consts[1].transpose(-1, -2).contiguous() if consts[1] is not None and adj_b \
        else consts[1]

    def run(acts):
        a = tf(acts[0])
        b = b_const if b_const is not None else tf(acts[1])
        if adj_a:
            a = a.transpose(-1, -2)
        if b_const is None and adj_b:
            b = b.transpose(-1, -2)
        y = torch.matmul(a, b)
        if bias is not None:
            y = y + bias
        return Act(act(y) if act else y)
    return run
