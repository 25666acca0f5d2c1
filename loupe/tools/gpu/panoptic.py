"""SEG with a panoptic model (Mask2Former or MaskFormer via transformers): every thing and stuff region
of the image, each with its class label, score, pixel box and boolean mask of the image's H x W.

Options: ``panoptic.model`` (default ``facebook/mask2former-swin-tiny-coco-panoptic``; any checkpoint
``AutoModelForUniversalSegmentation`` loads, MaskFormer included), ``panoptic.threshold`` (0.5),
``panoptic.overlap`` (0.8, the processor's mask-area rule), ``panoptic.batch`` (4 images per forward).
"""

from __future__ import annotations

import numpy as np

from loupe.programs.values import Image, Objects
from loupe.tools.gpu.base import GpuBackend, Loaded, chunks, guarded, to_device
from loupe.tools.weights import load_pretrained


def from_panoptic(segmentation: np.ndarray, segments: list[dict], id2label: dict, image: Image) -> Objects:
    """``segmentation`` ``[H, W]`` segment ids (at the image's size) and ``segments_info`` -> Objects."""
    masks, boxes, scores, labels = [], [], [], []
    for info in segments:
        mask = segmentation == info["id"]
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        masks.append(mask)
        boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        scores.append(float(info.get("score", 1.0)))
        labels.append(str(id2label.get(int(info["label_id"]), info["label_id"])))
    if not masks:
        return Objects.empty(image.size)
    return Objects.from_arrays(boxes, scores, labels, image.size, masks=np.stack(masks))


class PanopticSegmenter(GpuBackend):
    option_name = "panoptic.model"
    default_model = "facebook/mask2former-swin-tiny-coco-panoptic"

    def _build(self, device, dtype):
        import transformers

        processor = load_pretrained(self.settings, transformers.AutoImageProcessor, self.model_id, self.option_name)
        model = load_pretrained(self.settings, transformers.AutoModelForUniversalSegmentation, self.model_id,
                                self.option_name, dtype=dtype)
        return Loaded(model.to(device).eval(), processor, device, dtype)

    def run_batch(self, calls):
        results = []
        for part in chunks(list(calls), int(self.option("panoptic.batch", 4))):
            results += guarded(part, self._segment)
        return results

    def _segment(self, calls):
        import torch

        with self.model("panoptic", self._build) as loaded:
            inputs = loaded.processor(images=[c["image"].to_pil() for c in calls], return_tensors="pt")
            with torch.inference_mode():
                out = loaded.model(**to_device(inputs, loaded.device, loaded.dtype))
            for name in ("class_queries_logits", "masks_queries_logits"):
                setattr(out, name, getattr(out, name).float())
            found = loaded.processor.post_process_panoptic_segmentation(
                out, threshold=float(self.option("panoptic.threshold", 0.5)),
                overlap_mask_area_threshold=float(self.option("panoptic.overlap", 0.8)),
                target_sizes=[(c["image"].height, c["image"].width) for c in calls], label_ids_to_fuse=set())
            id2label = loaded.model.config.id2label
        return [from_panoptic(r["segmentation"].cpu().numpy(), r["segments_info"], id2label, c["image"])
                for r, c in zip(found, calls)]
