"""Model outputs -> ``Objects``: one ``from_<model>`` converter per family, all ending in pixel xyxy boxes
in the coordinates of the original image (the one the tool was given), clipped to it, NMS applied.
"""

from __future__ import annotations

import numpy as np

from loupe.programs.values import Image, Objects


def clean(boxes, scores, labels, image: Image, iou: float = 0.5, limit: int = 100) -> Objects:
    """``boxes`` ``[N, 4]`` xyxy pixels of ``image``: clipped, empty ones dropped, per-label NMS, best first."""
    import torch
    from torchvision.ops import batched_nms

    boxes = torch.as_tensor(np.asarray(boxes, dtype=np.float32)).reshape(-1, 4)
    scores = torch.as_tensor(np.asarray(scores, dtype=np.float32)).reshape(-1)
    labels = list(labels)
    w, h = image.size
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
    valid = ((boxes[:, 2] - boxes[:, 0]) > 0.5) & ((boxes[:, 3] - boxes[:, 1]) > 0.5)
    index = torch.nonzero(valid).reshape(-1)
    if len(index) == 0:
        return Objects.empty(image.size)
    groups = torch.as_tensor([sorted(set(labels)).index(labels[i]) for i in index.tolist()])
    keep = index[batched_nms(boxes[index], scores[index], groups, iou)][:limit]
    return Objects.from_arrays(boxes[keep].numpy(), scores[keep].numpy(), [labels[i] for i in keep.tolist()],
                               image.size)


def from_owlv2(logits, pred_boxes, image: Image, label: str, threshold: float, iou: float = 0.3) -> Objects:
    """OWLv2 output of one image and one query: ``logits`` ``[Q]``, ``pred_boxes`` ``[Q, 4]`` cxcywh in
    0..1 of the *padded square* input (the processor pads bottom/right to ``max(H, W)``)."""
    scores = 1 / (1 + np.exp(-np.clip(np.asarray(logits, dtype=np.float32), -80, 80)))
    side = max(image.size)
    keep = scores > threshold
    return clean(cxcywh_to_xyxy(np.asarray(pred_boxes, dtype=np.float32)[keep]) * side, scores[keep],
                 [label] * int(keep.sum()), image, iou)


def from_grounding_dino(result: dict, image: Image, label: str) -> Objects:
    """A processor's post-processed result (``boxes`` xyxy pixels of ``target_sizes``, ``scores``)."""
    boxes = result["boxes"].float().cpu().numpy()
    scores = result["scores"].float().cpu().numpy()
    return clean(boxes, scores, [label] * len(scores), image)


def from_ultralytics(result, image: Image, names=None) -> Objects:
    """One ultralytics ``Results``: ``boxes.xyxy`` are already pixels of the original image."""
    boxes = result.boxes
    names = names or result.names
    classes = boxes.cls.cpu().numpy().astype(int)
    return clean(boxes.xyxy.float().cpu().numpy(), boxes.conf.float().cpu().numpy(),
                 [str(names[c]) for c in classes], image)


def cxcywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``[N, 4]`` centre x, centre y, width, height -> x1, y1, x2, y2 (same units)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    cx, cy, w, h = boxes.T
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
