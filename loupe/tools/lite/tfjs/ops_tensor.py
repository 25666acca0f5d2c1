"""Shape and indexing ops: Reshape, Transpose, ConcatV2, Pack, Slice, StridedSlice, ...

Everything here works on TF layout except ConcatV2 (which stays NCHW when all its
4-D inputs are NCHW, remapping the axis) and Transpose (which folds the NCHW
storage permutation into its own perm).
"""
from __future__ import annotations

import torch

from .layout import Act, axis_for, tf, tf_shape
from .ops_math import TORCH_DTYPES
from .registry import const_list, register, unsupported


def _ints(consts, acts, index: int, node, what: str) -> list[int]:
    """Input ``index`` as ints: the load-time constant if any, else the runtime value."""
    if consts[index] is not None:
        return [int(v) for v in consts[index].reshape(-1).tolist()]
    if index >= len(acts):
        raise unsupported(node, f"a missing {what}")
    return [int(v) for v in tf(acts[index]).reshape(-1).tolist()]


@register("Reshape")
def build_reshape(node, consts):
    return lambda acts: Act(tf(acts[0]).reshape(_ints(consts, acts, 1, node, "shape")))


def build_batched_reshape(node, consts):
    """Reshape whose constant target starts with the declared batch 1: keep dim 0 = N."""
    target = const_list(consts, 1, node, "shape")

    def run(acts):
        x = tf(acts[0])
        return Act(x.reshape([x.shape[0]] + target[1:]))
    return run


@register("Transpose")
def build_transpose(node, consts):
    def run(acts):
        perm = _ints(consts, acts, 1, node, "perm")
        x = acts[0]
        if x.nchw:  # TF value is storage.permute(0, 2, 3, 1); compose the two permutations
            perm = [(0, 2, 3, 1)[p] for p in perm]
        return Act(x.tensor.permute(perm))
    return run


@register("ConcatV2", "Concat")
def build_concat(node, consts):
    axis_index = len(node.inputs) - 1 if node.op == "ConcatV2" else 0

    def run(acts):
        axis = _ints(consts, acts, axis_index, node, "axis")[0]
        parts = acts[:axis_index] + acts[axis_index + 1:]
        if all(p.nchw for p in parts):
            return Act(torch.cat([p.tensor for p in parts], axis_for(parts[0], axis)), True)
        tensors = [tf(p) for p in parts]
        return Act(torch.cat(tensors, axis + tensors[0].dim() if axis < 0 else axis))
    return run


@register("Squeeze")
def build_squeeze(node, consts):
    dims = node.attr("squeeze_dims", []) or []

    def run(acts):
        x = tf(acts[0])
        if not dims:
            return Act(x.squeeze())
        keep = [s for i, s in enumerate(x.shape) if i not in {d % x.dim() for d in dims}]
        return Act(x.reshape(keep))
    return run


@register("ExpandDims")
def build_expand_dims(node, consts):
    def run(acts):
        x = tf(acts[0])
        dim = _ints(consts, acts, 1, node, "dim")[0]
        return Act(x.unsqueeze(dim if dim >= 0 else dim + x.dim() + 1))
    return run


@register("Shape")
def build_shape(node, consts):
    dtype = TORCH_DTYPES.get(node.attr("out_type", "DT_INT32"), torch.int32)
    return lambda acts: Act(torch.tensor(tf_shape(acts[0]), dtype=dtype, device=acts[0].tensor.device))


@register("Pack")
def build_pack(node, consts):
    axis = node.attr("axis", 0)
    return lambda acts: Act(torch.stack([tf(a) for a in acts], axis))


@register("Unpack")
def build_unpack(node, consts):
    axis = node.attr("axis", 0)
    return lambda acts: [Act(t) for t in torch.unbind(tf(acts[0]), axis)]


@register("Split")
def build_split(node, consts):
    """Inputs (axis, value); ``num_split`` equal parts."""
    count = node.attr("num_split", 1)

    def run(acts):
        axis = _ints(consts, acts, 0, node, "axis")[0]
        return [Act(t) for t in torch.chunk(tf(acts[1]), count, axis)]
    return run


@register("SplitV")
def build_split_v(node, consts):
    """Inputs (value, size_splits, axis); one size may be -1."""
    def run(acts):
        x = tf(acts[0])
        sizes = _ints(consts, acts, 1, node, "size_splits")
        axis = _ints(consts, acts, 2, node, "axis")[0]
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
        return [Act(t) for t in torch.split(x, sizes, axis)]
    return run


@register("Slice")
def build_slice(node, consts):
    def run(acts):
        x = tf(acts[0])
        begin = _ints(consts, acts, 1, node, "begin")
        size = _ints(consts, acts, 2, node, "size")
        index = tuple(slice(b, x.shape[i] if s == -1 else b + s) for i, (b, s) in enumerate(zip(begin, size)))
        return Act(x[index])
    return run


@register("Fill")
def build_fill(node, consts):
    def run(acts):
        dims = _ints(consts, acts, 0, node, "dims")
        value = tf(acts[1])
        return Act(torch.full(dims, value.item(), dtype=value.dtype, device=value.device))
    return run


@register("Range")
def build_range(node, consts):
    def run(acts):
        start, limit, delta = (tf(a) for a in acts[:3])
        return Act(torch.arange(start.item(), limit.item(), delta.item(), dtype=start.dtype,
                                device=start.device))
    return run


@register("Tile")
def build_tile(node, consts):
    return lambda acts: Act(tf(acts[0]).repeat(_ints(consts, acts, 1, node, "multiples")))


@register("IdentityN")
def build_identity_n(node, consts):
    return lambda acts: [Act(a.tensor, a.nchw) for a in acts]


@register("SparseToDense")
def build_sparse_to_dense(node, consts):
    """Inputs (indices [n] or [n, rank], output_shape, values, default)."""
    def run(acts):
        indices = tf(acts[0]).long()
        shape = _ints(consts, acts, 1, node, "output_shape")
        values, default = tf(acts[2]), tf(acts[3])
        out = torch.full(shape, default.item(), dtype=values.dtype, device=values.device)
        if indices.dim() < 2:
            indices = indices.reshape(-1, 1)
        out[tuple(indices.t())] = values
        return Act(out)
    return run
