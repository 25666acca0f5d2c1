"""Selection ops used by detector post-processing: StridedSlice, GatherV2, TopKV2,
Where and NonMaxSuppressionV3/V4/V5. All work on TF layout.
"""
from __future__ import annotations

import torch

from .layout import Act, tf
from .ops_tensor import _ints
from .registry import register, unsupported


def _bit(mask: int, i: int) -> bool:
    return bool(mask >> i & 1)


def strided_slice_index(shape, begin, end, strides, masks) -> tuple[list, list[int]]:
    """Turn TF StridedSlice arguments into (python index with positive steps, dims to flip).

    ``masks`` = (begin, end, ellipsis, new_axis, shrink_axis) bit masks. Negative
    strides become a positive slice over the same elements plus a flip of that
    output dim.
    """
    begin_m, end_m, ellipsis_m, new_m, shrink_m = masks
    specs = len(begin)
    consumed = sum(1 for i in range(specs) if not _bit(ellipsis_m, i) and not _bit(new_m, i))
    index, flips, dim, out_dim = [], [], 0, 0
    for i in range(specs):
        if _bit(ellipsis_m, i):
            span = len(shape) - consumed
            index += [slice(None)] * span
            dim, out_dim = dim + span, out_dim + span
        elif _bit(new_m, i):
            index.append(None)
            out_dim += 1
        elif _bit(shrink_m, i):
            b = begin[i] + shape[dim] if begin[i] < 0 else begin[i]
            index.append(b)
            dim += 1
        else:
            b = None if _bit(begin_m, i) else begin[i]
            e = None if _bit(end_m, i) else end[i]
            start, stop, step = slice(b, e, strides[i]).indices(shape[dim])
            if step < 0:
                count = len(range(start, stop, step))
                last = start + step * (count - 1) if count else start
                index.append(slice(last, start + 1 if count else start, -step))
                flips.append(out_dim)
            else:
                index.append(slice(start, max(stop, start), step))
            dim, out_dim = dim + 1, out_dim + 1
    return index, flips


@register("StridedSlice")
def build_strided_slice(node, consts):
    masks = tuple(node.attr(k, 0) for k in
                  ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"))

    def run(acts):
        x = tf(acts[0])
        begin, end = _ints(consts, acts, 1, node, "begin"), _ints(consts, acts, 2, node, "end")
        strides = _ints(consts, acts, 3, node, "strides") if len(acts) > 3 else [1] * len(begin)
        index, flips = strided_slice_index(tuple(x.shape), begin, end, strides, masks)
        y = x[tuple(index)]
        return Act(y.flip(flips) if flips else y)
    return run


@register("GatherV2", "Gather")
def build_gather(node, consts):
    if node.attr("batch_dims", 0) != 0:
        raise unsupported(node, f"batch_dims={node.attr('batch_dims')}")

    def run(acts):
        params, indices = tf(acts[0]), tf(acts[1]).long()
        axis = _ints(consts, acts, 2, node, "axis")[0] if len(acts) > 2 else 0
        axis = axis + params.dim() if axis < 0 else axis
        picked = params.index_select(axis, indices.reshape(-1))
        shape = tuple(params.shape[:axis]) + tuple(indices.shape) + tuple(params.shape[axis + 1:])
        return Act(picked.reshape(shape))
    return run


def top_k_row(row: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """TF TopK on a 1-D row: values descending, equal values by ascending index."""
    values, _ = torch.topk(row, k)
    if k == 0:
        return values, torch.zeros(0, dtype=torch.long, device=row.device)
    edge = values[-1]
    above = torch.nonzero(row > edge).reshape(-1)
    at_edge = torch.nonzero(row == edge).reshape(-1)[:k - above.numel()]
    index = torch.sort(torch.cat([above, at_edge])).values
    order = torch.sort(row[index], descending=True, stable=True).indices
    index = index[order]
    return row[index], index


@register("TopKV2")
def build_top_k(node, consts):
    def run(acts):
        x = tf(acts[0])
        k = _ints(consts, acts, 1, node, "k")[0]
        rows = x.reshape(-1, x.shape[-1])
        pairs = [top_k_row(r, k) for r in rows]
        shape = tuple(x.shape[:-1]) + (k,)
        values = torch.stack([p[0] for p in pairs]).reshape(shape)
        indices = torch.stack([p[1] for p in pairs]).reshape(shape).to(torch.int32)
        return [Act(values), Act(indices)]
    return run


@register("Where")
def build_where(node, consts):
    """One input: coordinates of true (non-zero) elements, int64 [count, rank], row-major."""
    if len(node.inputs) != 1:
        raise unsupported(node, "Where with 3 inputs (use SelectV2)")
    return lambda acts: Act(torch.nonzero(tf(acts[0])))


def _iou(box: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """IoU of one [4] box with [n, 4] boxes; corners in any order (TF normalises them)."""
    def norm(b):
        y1, x1, y2, x2 = b.unbind(-1)
        return torch.minimum(y1, y2), torch.minimum(x1, x2), torch.maximum(y1, y2), torch.maximum(x1, x2)
    ay1, ax1, ay2, ax2 = norm(box)
    by1, bx1, by2, bx2 = norm(boxes)
    inter = (torch.minimum(ay2, by2) - torch.maximum(ay1, by1)).clamp(min=0) * \
            (torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)).clamp(min=0)
    union = (ay2 - ay1) * (ax2 - ax1) + (by2 - by1) * (bx2 - bx1) - inter
    return torch.where(union > 0, inter / union, torch.zeros_like(union))


def greedy_nms(boxes, scores, max_out: int, iou_thr: float, score_thr: float) -> torch.Tensor:
    """Indices kept by TF's greedy NMS (score > threshold, suppress IoU > iou_thr)."""
    candidates = torch.nonzero(scores > score_thr).reshape(-1)
    order = candidates[torch.sort(scores[candidates], descending=True, stable=True).indices]
    kept: list[int] = []
    for i in order.tolist():
        if len(kept) >= max_out:
            break
        if not kept or bool((_iou(boxes[i], boxes[kept]) <= iou_thr).all()):
            kept.append(i)
    return torch.tensor(kept, dtype=torch.int32, device=boxes.device)


@register("NonMaxSuppressionV3", "NonMaxSuppressionV4", "NonMaxSuppressionV5")
def build_nms(node, consts):
    def run(acts):
        boxes, scores = tf(acts[0]).float(), tf(acts[1]).float()
        max_out = int(tf(acts[2]).item())
        iou_thr = float(tf(acts[3]).item())
        score_thr = float(tf(acts[4]).item()) if len(acts) > 4 else float("-inf")
        if node.op == "NonMaxSuppressionV5" and float(tf(acts[5]).item()) > 0:
            raise unsupported(node, "soft-NMS (soft_nms_sigma > 0)")
        kept = greedy_nms(boxes, scores, max_out, iou_thr, score_thr)
        valid = torch.tensor(kept.numel(), dtype=torch.int32, device=boxes.device)
        kept_scores = scores[kept.long()]
        if node.attr("pad_to_max_output_size", False):
            pad = torch.zeros(max_out - kept.numel(), dtype=torch.int32, device=boxes.device)
            kept = torch.cat([kept, pad])
            kept_scores = torch.cat([kept_scores, pad.float()])
        if node.op == "NonMaxSuppressionV3":
            return Act(kept)
        if node.op == "NonMaxSuppressionV4":
            return [Act(kept), Act(valid)]
        return [Act(kept), Act(kept_scores), Act(valid)]
    return run
