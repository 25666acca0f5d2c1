"""Pooling, resizing and padding with TF semantics, on NCHW-stored activations."""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

from .layout import Act, nchw, tf
from .ops_conv import hw, spatial_pads
from .registry import const_list, register, unsupported


def _pool_pads(node, x, kernel, stride):
    return spatial_pads(node, (x.shape[2], x.shape[3]), kernel, stride, (1, 1))


@register("MaxPool")
def build_max_pool(node, consts):
    kernel, stride = hw(node, "ksize"), hw(node, "strides")

    def run(acts):
        x = nchw(acts[0])
        top, bottom, left, right = _pool_pads(node, x, kernel, stride)
        if top == bottom and left == right and 2 * top <= kernel[0] and 2 * left <= kernel[1]:
            return Act(F.max_pool2d(x, kernel, stride, (top, left)), nchw=True)
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        return Act(F.max_pool2d(x, kernel, stride), nchw=True)
    return run


@register("AvgPool")
def build_avg_pool(node, consts):
    """TF averages over the window cells inside the image (padding is not counted)."""
    kernel, stride = hw(node, "ksize"), hw(node, "strides")

    def run(acts):
        x = nchw(acts[0])
        top, bottom, left, right = _pool_pads(node, x, kernel, stride)
        if top == bottom and left == right and 2 * top <= kernel[0] and 2 * left <= kernel[1]:
            y = F.avg_pool2d(x, kernel, stride, (top, left), count_include_pad=False)
            return Act(y, nchw=True)
        pads = (left, right, top, bottom)
        total = F.avg_pool2d(F.pad(x, pads), kernel, stride)
        ones = torch.ones((1, 1, x.shape[2], x.shape[3]), dtype=x.dtype, device=x.device)
        share = F.avg_pool2d(F.pad(ones, pads), kernel, stride)
        return Act(total / share, nchw=True)
    return run


@lru_cache(maxsize=256)
def _source_coords(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """Float source coordinate per output index, as TF's resize kernels compute it."""
    if align_corners and out_size > 1:
        scale = (in_size - 1) / (out_size - 1)
    else:
        scale = in_size / out_size
    out = torch.arange(out_size, dtype=torch.float64)
    return out, scale


@lru_cache(maxsize=256)
def bilinear_taps(in_size, out_size, align_corners, half_pixel, device):
    """(low index, high index, fraction) per output index, exactly as TF's ResizeBilinear."""
    out, scale = _source_coords(in_size, out_size, align_corners, half_pixel)
    src = (out + 0.5) * scale - 0.5 if half_pixel else out * scale
    floor = torch.floor(src)
    low = floor.clamp(min=0).long()
    high = torch.minimum(torch.ceil(src), torch.tensor(in_size - 1.0)).clamp(min=0).long()
    frac = (src - floor).float()
    return low.to(device), high.to(device), frac.to(device)


@lru_cache(maxsize=256)
def nearest_taps(in_size, out_size, align_corners, half_pixel, device):
    """Source index per output index, as TF's ResizeNearestNeighbor."""
    out, scale = _source_coords(in_size, out_size, align_corners, half_pixel)
    src = (out + 0.5) * scale if half_pixel else out * scale
    index = torch.floor(src + 0.5) if align_corners else torch.floor(src)  # roundf: half away from 0
    return index.clamp(0, in_size - 1).long().to(device)


@lru_cache(maxsize=256)
def bilinear_matrix(in_size, out_size, align_corners, half_pixel, device) -> torch.Tensor:
    """[out, in] interpolation matrix of TF's ResizeBilinear along one axis."""
    low, high, frac = bilinear_taps(in_size, out_size, align_corners, half_pixel, torch.device("cpu"))
    rows = torch.arange(out_size)
    matrix = torch.zeros(out_size, in_size)
    matrix.index_put_((rows, low), 1.0 - frac, accumulate=True)
    matrix.index_put_((rows, high), frac, accumulate=True)
    return matrix.to(device)


def _resize_bilinear_nchw(x, out_h, out_w, align_corners, half_pixel):
    """Separable resize as two small matmuls (exact TF taps, fast on CPU and GPU). The matmuls run on an
    NCHW-contiguous copy (2-9x faster than on the channels-last memory convolutions leave) and the
    result goes back to the input's memory format, which the next convolution wants."""
    channels_last = not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
    x = x.contiguous()
    rows = bilinear_matrix(x.shape[2], out_h, align_corners, half_pixel, x.device)
    cols = bilinear_matrix(x.shape[3], out_w, align_corners, half_pixel, x.device)
    y = torch.matmul(rows, torch.matmul(x, cols.t()))
    return y.contiguous(memory_format=torch.channels_last) if channels_last else y


def _out_size(node, consts, acts) -> tuple[int, int]:
    if consts[1] is not None:
        size = consts[1].tolist()
    else:
        size = tf(acts[1]).tolist()
    return int(size[0]), int(size[1])


@register("ResizeBilinear")
def build_resize_bilinear(node, consts):
    align, half = node.attr("align_corners", False), node.attr("half_pixel_centers", False)

    def run(acts):
        x = nchw(acts[0])
        out_h, out_w = _out_size(node, consts, acts)
        if half and not align and x.dtype == torch.float32:
            return Act(F.interpolate(x, (out_h, out_w), mode="bilinear", align_corners=False), True)
        if x.dtype != torch.float32:
            x = x.float()
        return Act(_resize_bilinear_nchw(x, out_h, out_w, align, half), nchw=True)
    return run


@register("ResizeNearestNeighbor")
def build_resize_nearest(node, consts):
    align, half = node.attr("align_corners", False), node.attr("half_pixel_centers", False)

    def run(acts):
        x = nchw(acts[0])
        out_h, out_w = _out_size(node, consts, acts)
        rows = nearest_taps(x.shape[2], out_h, align, half, x.device)
        cols = nearest_taps(x.shape[3], out_w, align, half, x.device)
        return Act(x.index_select(2, rows).index_select(3, cols), nchw=True)
    return run


def _torch_pads(pairs: list[list[int]]) -> list[int]:
    """[[before, after] per axis] -> F.pad's flat list, last axis first."""
    flat = []
    for before, after in reversed(pairs):
        flat += [before, after]
    return flat


def _pad_pairs(node, consts, act: Act) -> list[list[int]]:
    values = const_list(consts, 1, node, "paddings")
    pairs = [values[i:i + 2] for i in range(0, len(values), 2)]
    if act.nchw:
        pairs = [pairs[tf_axis] for tf_axis in (0, 3, 1, 2)]
    return pairs


@register("Pad", "PadV2")
def build_pad(node, consts):
    def run(acts):
        x = acts[0]
        value = float(tf(acts[2]).item()) if len(acts) > 2 else 0.0
        pads = _torch_pads(_pad_pairs(node, consts, x))
        return Act(F.pad(x.tensor, pads, value=value), x.nchw)
    return run


def _mirror_index(size: int, before: int, after: int, reflect: bool, device) -> torch.Tensor:
    """Source index per padded position along one axis (REFLECT skips the edge)."""
    shift = 1 if reflect else 0
    pos = torch.arange(-before, size + after)
    pos = torch.where(pos < 0, -pos - 1 + shift, pos)
    pos = torch.where(pos >= size, 2 * size - pos - 1 - shift, pos)
    return pos.to(device)


@register("MirrorPad")
def build_mirror_pad(node, consts):
    mode = node.attr("mode", "REFLECT")
    if mode not in ("REFLECT", "SYMMETRIC"):
        raise unsupported(node, f"mode {mode!r}")

    def run(acts):
        x = acts[0]
        t = x.tensor
        for axis, (before, after) in enumerate(_pad_pairs(node, consts, x)):
            if before or after:
                index = _mirror_index(t.shape[axis], before, after, mode == "REFLECT", t.device)
                t = t.index_select(axis, index)
        return Act(t, x.nchw)
    return run

