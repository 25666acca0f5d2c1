"""Person segmentation with the lite pack's MediaPipe segmentation models.

Two models are in the pack (both take RGB float32 in 0..1, the whole image stretched to the input):

* ``selfie`` — MediaPipe Selfie Segmentation (general), input ``[B, 256, 256, 3]``, output
  ``activation_10`` ``[B, 256, 256, 1]``: person probability (sigmoid).
* ``meet``   — MediaPipe Meet segmentation, input ``[B, 144, 256, 3]``, output ``segment``
  ``[B, 144, 256, 2]``: logits (background, person).

:data:`DEFAULT_MODEL` is chosen on full-body photos (see ``PersonSegmenter``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from loupe.programs.values import Image
from loupe.tools.lite.pack import graph_output, load_lite_graph


@dataclass(frozen=True)
class SegModel:
    """A segmentation graph: input ``(height, width)``, its output, and whether that holds 2 logits."""

    name: str
    input_hw: tuple[int, int]
    output: str
    two_logits: bool


SEG_MODELS = {
    "selfie": SegModel("selfie", (256, 256), "activation_10:0", two_logits=False),
    "meet": SegModel("meet", (144, 256), "segment:0", two_logits=True),
}
DEFAULT_MODEL = "selfie"


def resize_float(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of float32 ``[h, w]`` or ``[h, w, C]`` to ``height`` x ``width``."""
    from PIL import Image as PILImage

    if array.ndim == 2:
        return np.asarray(PILImage.fromarray(array.astype(np.float32), mode="F")
                          .resize((width, height), PILImage.BILINEAR))
    return np.stack([resize_float(array[..., c], width, height) for c in range(array.shape[2])], axis=-1)


def person_probability(output: np.ndarray, two_logits: bool) -> np.ndarray:
    """One image's raw output ``[h, w, 1]`` (probability) or ``[h, w, 2]`` (logits) -> ``[h, w]`` in 0..1."""
    if not two_logits:
        return np.clip(output[..., 0], 0.0, 1.0)
    background, person = output[..., 0], output[..., 1]
    return 1.0 / (1.0 + np.exp(np.clip(background - person, -60, 60)))


class PersonSegmenter:
    """Person probability maps at each image's own size.

    ``model`` "selfie" (default) or "meet". Selfie is the default: on the full-body test photos
    (``person.jpg``, ``kite.jpg``, the astronaut) it covers legs and bodies that meet, tuned for a head
    and shoulders in a video call at 144x256, misses or blurs. Both are foreground models, not person
    classifiers: a close-up animal (skimage's cat) is marked too, so gate the mask with a person
    detection. Loads on first use; ``device`` is "cpu" or "cuda".
    """

    def __init__(self, device: str = "cpu", model: str = DEFAULT_MODEL):
        if model not in SEG_MODELS:
            raise ValueError(f"unknown segmentation model {model!r}; expected one of {', '.join(SEG_MODELS)}")
        self.device = device
        self.spec = SEG_MODELS[model]
        self._graph = None

    def segment(self, images: Sequence[Image]) -> list[np.ndarray]:
        """Float32 ``[H, W]`` person probability (0..1) per image, at that image's size; one batch."""
        if not images:
            return []
        height, width = self.spec.input_hw
        batch = np.stack([resize_float(image.pixels.astype(np.float32) / 255.0, width, height)
                          for image in images])
        outputs = self._forward(batch.astype(np.float32))
        return [resize_float(person_probability(out, self.spec.two_logits), image.width, image.height)
                .clip(0.0, 1.0).astype(np.float32) for image, out in zip(images, outputs)]

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """``[B, h, w, 3]`` in 0..1 -> raw output ``[B, h, w, 1 or 2]``."""
        import torch

        if self._graph is None:
            self._graph = load_lite_graph(self.spec.name, self.device)
        with torch.inference_mode():
            outputs = self._graph(torch.from_numpy(batch).to(self.device))
        return graph_output(outputs, self.spec.output).float().cpu().numpy()
