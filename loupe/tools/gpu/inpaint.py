"""REPLACE with Stable Diffusion inpainting (diffusers): paints what ``prompt`` says where the objects are.

The objects' region (masks, or boxes where they have none) is dilated by ``inpaint.dilate`` of the image's
longer side, the image is resized to a working size (longer side ``inpaint.size``, multiples of 8), painted,
resized back and blended in with an alpha feathered outward from the dilated region: pixels farther out are
exactly the input's. Seeded (``inpaint.seed``), so the same call gives the same image.

Options: ``inpaint.model`` (default ``stable-diffusion-v1-5/stable-diffusion-inpainting``; the old
``runwayml`` repository is gone), ``inpaint.steps`` (30), ``inpaint.guidance`` (7.5), ``inpaint.seed`` (0),
``inpaint.size`` (512), ``inpaint.dilate`` (0.02), ``inpaint.feather`` (0.015).
"""

from __future__ import annotations

import cv2
import numpy as np

from loupe.programs.values import Image
from loupe.tools.gpu.base import GpuBackend, each
from loupe.tools.imageops import check_objects_fit, composite, feather, objects_mask
from loupe.tools.replace import is_removal
from loupe.tools.weights import load_pretrained

REMOVAL_PROMPT = "empty background, nothing there"
NEGATIVE = "blurry, distorted, text, watermark"


def affordance(args) -> float:
    """Stable Diffusion paints any prompt."""
    return 1.0


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """Boolean ``[H, W]`` mask grown by ``radius`` pixels (elliptical kernel)."""
    if radius <= 0 or not mask.any():
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def working_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """``(w, h)`` with the longer side ``longest`` (aspect kept), both multiples of 8, at least 8."""
    scale = longest / max(width, height)
    return max(8, int(round(width * scale / 8)) * 8), max(8, int(round(height * scale / 8)) * 8)


class Pipeline:
    """A loaded inpainting pipeline; its torch components are what the manager measures and moves."""

    def __init__(self, pipe, device: str):
        self.pipe, self.device = pipe, device

    def modules_for_manager(self):
        import torch

        return [m for m in self.pipe.components.values() if isinstance(m, torch.nn.Module)]


class SdInpainter(GpuBackend):
    option_name = "inpaint.model"
    default_model = "stable-diffusion-v1-5/stable-diffusion-inpainting"

    def _build(self, device, dtype):
        from diffusers import StableDiffusionInpaintPipeline

        pipe = load_pretrained(self.settings, StableDiffusionInpaintPipeline, self.model_id, self.option_name,
                               torch_dtype=dtype)
        pipe.set_progress_bar_config(disable=True)
        return Pipeline(pipe.to(device), device)

    def run_batch(self, calls):
        return each(calls, lambda c: self.replace(c["image"], c["object"], c["prompt"]))

    def replace(self, image: Image, objects, prompt: str) -> Image:
        """A new image: ``objects``' region of ``image`` repainted as ``prompt``; the input is not changed."""
        import torch

        check_objects_fit(image, objects, "REPLACE")
        side = max(image.size)
        region = dilated(objects_mask(image, objects), int(round(float(self.option("inpaint.dilate", 0.02)) * side)))
        if not region.any():
            return image
        w, h = working_size(image.width, image.height, int(self.option("inpaint.size", 512)))
        text = REMOVAL_PROMPT if is_removal(prompt or "") else str(prompt)
        with self.model("inpaint", self._build) as loaded:
            generator = torch.Generator(device="cpu").manual_seed(int(self.option("inpaint.seed", 0)))
            painted = loaded.pipe(
                prompt=text, negative_prompt=NEGATIVE, image=image.to_pil().resize((w, h)),
                mask_image=_mask_pil(region).resize((w, h)), width=w, height=h, generator=generator,
                num_inference_steps=int(self.option("inpaint.steps", 30)),
                guidance_scale=float(self.option("inpaint.guidance", 7.5))).images[0]
        painted = np.asarray(painted.convert("RGB").resize(image.size), dtype=np.uint8)
        alpha = feather(region, float(self.option("inpaint.feather", 0.015)) * side, outward=True)
        return image.with_pixels(composite(image.pixels, painted, alpha))


def _mask_pil(mask: np.ndarray):
    from PIL import Image as PILImage

    return PILImage.fromarray(mask.astype(np.uint8) * 255)
