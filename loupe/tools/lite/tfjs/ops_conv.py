"""Convolutions (plain, depthwise, fused, transposed) and BiasAdd.

TF conventions handled here: NHWC data, HWIO conv kernels, depthwise kernels
[H, W, C, multiplier], transposed-conv kernels [H, W, out, in], ``strides`` and
``dilations`` given as [1, h, w, 1], ``padding`` SAME (extra pad on bottom/right,
computed from input size, stride and dilation), VALID or EXPLICIT (``explicit_paddings``
= [n0, n1, h0, h1, w0, w1, c0, c1]). Activations run NCHW (see layout.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .layout import Act, broadcastable_nchw, nchw, tf
from .registry import register, unsupported


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF SAME padding (before, after) for one spatial axis; the odd pixel goes after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def spatial_pads(node, size_hw, kernel_hw, stride_hw, dilation_hw) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding for ``node``'s ``padding`` attr."""
    mode = node.attr("padding", "VALID")
    if mode == "VALID":
        return 0, 0, 0, 0
    if mode == "SAME":
        top, bottom = same_pads(size_hw[0], kernel_hw[0], stride_hw[0], dilation_hw[0])
        left, right = same_pads(size_hw[1], kernel_hw[1], stride_hw[1], dilation_hw[1])
        return top, bottom, left, right
    if mode == "EXPLICIT":
        p = node.attr("explicit_paddings", [0] * 8)
        return p[2], p[3], p[4], p[5]
    raise unsupported(node, f"padding {mode!r}")


def hw(node, key: str, default: int = 1) -> tuple[int, int]:
    """The (h, w) entries of an NHWC 4-list attr such as ``strides``."""
    values = node.attr(key) or [default] * 4
    if node.attr("data_format", "NHWC") != "NHWC":
        raise unsupported(node, f"data_format {node.attr('data_format')!r} (only NHWC)")
    return (values[1], values[2]) if len(values) == 4 else (values[0], values[-1])


def make_activation(node, name: str, alpha: torch.Tensor | None):
    """The fused activation ``name`` as a function on a tensor (in place where safe)."""
    if name == "Relu":
        return torch.relu_
    if name == "Relu6":
        return lambda y: y.clamp_(0.0, 6.0)
    if name == "Sigmoid":
        return torch.sigmoid_
    if name == "Tanh":
        return torch.tanh_
    if name == "Elu":
        return F.elu
    if name == "LeakyRelu":
        slope = node.attr("leakyrelu_alpha", 0.2)
        return lambda y: F.leaky_relu(y, slope)
    if name == "Prelu" and alpha is not None:
        return lambda y: torch.where(y > 0, y, y * alpha)
    raise unsupported(node, f"fused activation {name!r}")


def fused_parts(node, consts, first_arg: int, nchw_alpha: bool):
    """Read ``fused_ops``/``num_args``: returns (bias or None, activation or None)."""
    ops = node.attr("fused_ops", [])
    args = consts[first_arg:first_arg + node.attr("num_args", len(consts) - first_arg)]
    bias, act, used = None, None, 0
    for op in ops:
        if op == "BiasAdd":
            bias, used = args[used], used + 1
        elif op == "Prelu":
            alpha = args[used]
            used += 1
            alpha = broadcastable_nchw(Act(alpha)) if nchw_alpha else alpha
            act = make_activation(node, op, alpha)
        else:
            act = make_activation(node, op, None)
    if any(a is None for a in args):
        raise unsupported(node, "non-constant fused arguments")
    return bias, act


class Conv2d:
    """A conv with TF padding on NCHW input; weight is torch OIHW, already on device.

    Input and weight are kept channels-last in memory (the NCHW view is unchanged): PyTorch's CPU
    depthwise convolution is up to 8x faster so, plain ones about 1.5x, and the outputs stay channels-last
    for the next layer (BENCHMARKS.md, "TF.js runner"). TF's uneven SAME padding (the odd pixel after)
    would need a padded copy of the input; a depthwise conv instead pads evenly by the larger side and
    gets its kernel shifted by zero rows/columns in front (same result, no copy: 1.5x faster).
    """

    def __init__(self, node, weight, bias, groups: int, activation=None):
        self.node, self.bias, self.groups = node, bias, groups
        self.weight = weight.contiguous(memory_format=torch.channels_last)
        self.stride, self.dilation = hw(node, "strides"), hw(node, "dilations")
        self.activation = activation
        self._plans: dict[tuple[int, int], tuple] = {}

    def __call__(self, acts: list[Act]) -> Act:
        x = nchw(acts[0]).contiguous(memory_format=torch.channels_last)
        size = (x.shape[2], x.shape[3])
        plan = self._plans.get(size) or self._plan(size)
        weight, pre_pad, padding = plan
        if pre_pad is not None:
            x = F.pad(x, pre_pad)
        y = F.conv2d(x, weight, self.bias, self.stride, padding, self.dilation, self.groups)
        return Act(self.activation(y) if self.activation else y, nchw=True)

    def _plan(self, size: tuple[int, int]) -> tuple:
        """(weight, explicit pad of the input or None, the conv's own even padding) for inputs of ``size``."""
        kernel = (self.weight.shape[2], self.weight.shape[3])
        top, bottom, left, right = spatial_pads(self.node, size, kernel, self.stride, self.dilation)
        if top == bottom and left == right:
            plan = (self.weight, None, (top, left))
        elif self.groups > 1 and self.dilation == (1, 1) and bottom >= top and right >= left:
            shifted = F.pad(self.weight, (right - left, 0, bottom - top, 0))
            plan = (shifted.contiguous(memory_format=torch.channels_last), None, (bottom, right))
        else:
            plan = (self.weight, (left, right, top, bottom), 0)
        self._plans[size] = plan
        return plan


def _conv_weight(node, consts) -> torch.Tensor:
    if consts[1] is None:
        raise unsupported(node, "a non-constant filter")
    return consts[1].permute(3, 2, 0, 1).contiguous()


def _depthwise_weight(node, consts) -> torch.Tensor:
    if consts[1] is None:
        raise unsupported(node, "a non-constant filter")
    k = consts[1]
    return k.permute(2, 3, 0, 1).reshape(k.shape[2] * k.shape[3], 1, k.shape[0], k.shape[1]).contiguous()


@register("Conv2D")
def build_conv2d(node, consts):
    return Conv2d(node, _conv_weight(node, consts), None, groups=1)


@register("_FusedConv2D")
def build_fused_conv2d(node, consts):
    bias, act = fused_parts(node, consts, 2, nchw_alpha=True)
    return Conv2d(node, _conv_weight(node, consts), bias, groups=1, activation=act)


@register("DepthwiseConv2dNative")
def build_depthwise(node, consts):
    return Conv2d(node, _depthwise_weight(node, consts), None, groups=consts[1].shape[2])


@register("FusedDepthwiseConv2dNative")
def build_fused_depthwise(node, consts):
    bias, act = fused_parts(node, consts, 2, nchw_alpha=True)
    weight = _depthwise_weight(node, consts)
    return Conv2d(node, weight, bias, groups=consts[1].shape[2], activation=act)


@register("Conv2DBackpropInput")
def build_conv_transpose(node, consts):
    """Inputs (output_sizes [N,H,W,C], filter [kh,kw,out,in], x); output size from input 0."""
    if consts[0] is None or consts[1] is None:
        raise unsupported(node, "non-constant output sizes or filter")
    out_h, out_w = int(consts[0][1]), int(consts[0][2])
    weight = consts[1].permute(3, 2, 0, 1).contiguous()
    stride, dilation = hw(node, "strides"), hw(node, "dilations")
    kernel = (weight.shape[2], weight.shape[3])
    top, _, left, _ = spatial_pads(node, (out_h, out_w), kernel, stride, dilation)

    def run(acts):
        y = F.conv_transpose2d(nchw(acts[2]), weight, None, stride, 0, 0, 1, dilation)
        y = y[:, :, top:top + out_h, left:left + out_w]
        short_h, short_w = out_h - y.shape[2], out_w - y.shape[3]
        if short_h > 0 or short_w > 0:
            y = F.pad(y, (0, max(short_w, 0), 0, max(short_h, 0)))
        return Act(y, nchw=True)
    return run


@register("BiasAdd")
def build_bias_add(node, consts):
    def run(acts):
        x, b = acts[0], tf(acts[1])
        if x.nchw:
            return Act(x.tensor + b.reshape(1, -1, 1, 1), nchw=True)
        return Act(x.tensor + b)
    return run
