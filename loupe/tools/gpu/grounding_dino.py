"""LOC with Grounding DINO (transformers): open vocabulary, text prompt ``"<name>."``.

Options: ``grounding_dino.model`` (default ``IDEA-Research/grounding-dino-tiny``), ``grounding_dino.threshold``
(box score, 0.3), ``grounding_dino.text_threshold`` (0.25), ``grounding_dino.batch`` (4 images per forward;
the processor pads them and the pixel mask keeps boxes relative to each image's own extent).
"""

from __future__ import annotations

from loupe.tools.gpu.base import to_device
from loupe.tools.gpu.detections import from_grounding_dino
from loupe.tools.gpu.locate import Locator


def affordance(args) -> float:
    """Grounding DINO accepts any object name."""
    return 1.0


class GroundingDinoLocator(Locator):
    option_name = "grounding_dino.model"
    default_model = "IDEA-Research/grounding-dino-tiny"
    batch_option = "grounding_dino.batch"

    processor_class = "AutoProcessor"
    model_class = "GroundingDinoForObjectDetection"

    def _detect(self, calls):
        import torch

        prompts = [c["object"].lower().rstrip(".") + "." for c in calls]
        with self.model("grounding_dino", self._build) as loaded:
            inputs = loaded.processor(images=[c["image"].to_pil() for c in calls], text=prompts,
                                      return_tensors="pt", padding=True)
            with torch.inference_mode():
                out = loaded.model(**to_device(inputs, loaded.device, loaded.dtype))
            out.logits, out.pred_boxes = out.logits.float(), out.pred_boxes.float()
            found = loaded.processor.post_process_grounded_object_detection(
                out, inputs["input_ids"].to(loaded.device),
                threshold=float(self.option("grounding_dino.threshold", 0.3)),
                text_threshold=float(self.option("grounding_dino.text_threshold", 0.25)),
                target_sizes=[(c["image"].height, c["image"].width) for c in calls])
        return [from_grounding_dino(r, c["image"], c["object"]) for r, c in zip(found, calls)]
