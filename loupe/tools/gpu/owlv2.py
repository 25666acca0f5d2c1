"""LOC with OWLv2 (transformers): open vocabulary, any object name. One padded forward per chunk of calls.

Options: ``owlv2.model`` (hub id or local folder; default ``google/owlv2-base-patch16-ensemble``),
``owlv2.threshold`` (0.1), ``owlv2.batch`` (8 images per forward). Region words (TOP, LEFT, ...) are
answered without a model, as on the lite tier.
"""

from __future__ import annotations

from loupe.tools.gpu.base import to_device
from loupe.tools.gpu.detections import from_owlv2
from loupe.tools.gpu.locate import Locator


def affordance(args) -> float:
    """OWLv2 accepts any object name."""
    return 1.0


class Owlv2Locator(Locator):
    option_name = "owlv2.model"
    default_model = "google/owlv2-base-patch16-ensemble"
    batch_option = "owlv2.batch"

    processor_class = "Owlv2Processor"
    model_class = "Owlv2ForObjectDetection"

    def _detect(self, calls):
        """Every image with its own single query: ``logits`` ``[B, Q, 1]``, ``pred_boxes`` ``[B, Q, 4]``."""
        import torch

        threshold = float(self.option("owlv2.threshold", 0.1))
        with self.model("owlv2", self._build) as loaded:
            inputs = loaded.processor(text=[[c["object"]] for c in calls],
                                      images=[c["image"].to_pil() for c in calls], return_tensors="pt")
            with torch.inference_mode():
                out = loaded.model(**to_device(inputs, loaded.device, loaded.dtype))
            logits = out.logits[..., 0].float().cpu().numpy()
            boxes = out.pred_boxes.float().cpu().numpy()
        return [from_owlv2(logits[i], boxes[i], c["image"], c["object"], threshold) for i, c in enumerate(calls)]
