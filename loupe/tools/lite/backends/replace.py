"""REPLACE on the lite tier: removing objects (OpenCV inpainting) and recolouring them to a named colour.

* removal — ``prompt`` empty, 'nothing', 'background', 'remove', 'erase', ...: the objects' region,
  grown by ``grow_radius`` pixels, is filled by Telea inpainting (on a downscaled copy when the region
  is large, then upsampled, which gives smoother fills and is faster); nothing outside it changes.
* recolouring — ``prompt`` names a basic colour ('blue bus', 'make it red', 'a green car'): inside the
  objects' region, hue and saturation become the colour's while brightness (HSV value) keeps the
  texture, with an edge feathered inward; nothing outside the region changes.

Any other prompt ('a teapot') needs Stable Diffusion inpainting on the GPU tier.
"""

from __future__ import annotations

import cv2
import numpy as np

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image, Objects
from loupe.tools.imageops import check_objects_fit, composite, feather, feather_radius, objects_mask
from loupe.tools.lite.backends.base import each
from loupe.tools.lite.backends.select import parse_phrase
from loupe.tools.lite.colors import ACHROMATIC, rgb_of, split_color
from loupe.tools.replace import is_removal
from loupe.tools.install import pip_extra
_FILLER = frozenset({"make", "it", "them", "paint", "painted", "color", "colour", "recolor", "recolour",
                     "turn", "into", "to", "in", "be", "please", "change", "one", "ones"})
GPU_HINT = f"the GPU tier's Stable Diffusion inpainting paints any prompt: {pip_extra('gpu')}"
INPAINT_SIDE = 384  # large regions are inpainted on a copy whose longer side is about this many pixels
LARGE_REGION = 0.02  # ... when the region covers more than this fraction of the image
# HSV value range (0..255) a target colour maps the object's brightness into; chromatic default below
_VALUE_RANGE = {"white": (165, 255), "gray": (70, 190), "black": (0, 70), "brown": (25, 165),
                "pink": (130, 255), "yellow": (90, 255)}
_CHROMATIC_RANGE = (45, 255)


def recolor_target(prompt: str) -> str | None:
    """The basic colour a recolouring prompt asks for ('make it red' -> 'red'), else None."""
    color, rest = split_color(prompt or "")
    words = [w for w in rest.split() if w not in _FILLER]
    if color is None or (words and parse_phrase(" ".join(words)) is None):
        return None
    return color


def affordance(args) -> float:
    """1 for removal and recolouring prompts, 0 for others ('a teapot'), 0.5 when not known statically."""
    prompt = args.get("prompt")
    if not isinstance(prompt, str):
        return 0.5
    return 1.0 if is_removal(prompt) or recolor_target(prompt) else 0.0


def grow_radius(image: Image) -> int:
    """How far (pixels) the region is grown before inpainting, to cover the object's soft edge."""
    return max(3, round(0.01 * min(image.width, image.height)))


def removal_region(image: Image, mask: np.ndarray) -> np.ndarray:
    """Boolean ``[H, W]``: ``mask`` grown by ``grow_radius`` — the only pixels a removal changes."""
    size = 2 * grow_radius(image) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def remove(image: Image, mask: np.ndarray) -> Image:
    """``image`` with the region of ``mask`` (``bool`` ``[H, W]``) filled from its surroundings."""
    region = removal_region(image, mask)
    if not region.any():
        return image
    pixels = np.ascontiguousarray(image.pixels)
    scale = min(1.0, INPAINT_SIDE / max(image.width, image.height))
    if region.mean() <= LARGE_REGION or scale >= 1.0:
        filled = cv2.inpaint(pixels, region.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    else:
        small_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = cv2.resize(pixels, small_size, interpolation=cv2.INTER_AREA)
        small_region = cv2.resize(region.astype(np.uint8), small_size, interpolation=cv2.INTER_NEAREST)
        small_region = cv2.dilate(small_region, np.ones((3, 3), np.uint8))
        small_filled = cv2.inpaint(small, small_region, 3, cv2.INPAINT_TELEA)
        filled = cv2.resize(small_filled, (image.width, image.height), interpolation=cv2.INTER_LINEAR)
    alpha = feather(region, grow_radius(image) / 2, outward=False)
    return image.with_pixels(composite(pixels, filled, alpha))


def recolor(image: Image, mask: np.ndarray, color: str) -> Image:
    """``image`` with the region of ``mask`` (``bool`` ``[H, W]``) turned ``color``, brightness kept."""
    if not mask.any():
        return image
    target = cv2.cvtColor(np.uint8([[rgb_of(color)]]), cv2.COLOR_RGB2HSV)[0, 0]
    hsv = cv2.cvtColor(np.ascontiguousarray(image.pixels), cv2.COLOR_RGB2HSV).astype(np.float32)
    low, high = _VALUE_RANGE.get(color, _CHROMATIC_RANGE)
    values = hsv[:, :, 2]
    lo, hi = np.percentile(values[mask], (2, 98))
    spread = np.clip((values - lo) / max(hi - lo, 1.0), 0.0, 1.0)
    hsv[:, :, 0] = target[0]
    hsv[:, :, 1] = 0 if color in ACHROMATIC else target[1]
    hsv[:, :, 2] = low + spread * (high - low)
    painted = cv2.cvtColor(np.clip(np.rint(hsv), 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    alpha = feather(mask, feather_radius(image, 0.004), outward=False)
    return image.with_pixels(composite(image.pixels, painted, alpha))


def unsupported(prompt: str) -> ToolUnavailable:
    """Painting needs the GPU tier's inpainting model: a capability this tier lacks (the step is *refused*,
    and an edit refused is not replanned into another edit), not a fault of the program."""
    return ToolUnavailable(f"REPLACE: the lite tier cannot paint {prompt!r}; it removes objects (prompt '' or "
                     f"'nothing') and recolours them ('blue bus', 'make it red'); {GPU_HINT}")


def replace(image: Image, objects: Objects, prompt: str) -> Image:
    """The edited image (a new one; ``image`` is not changed)."""
    check_objects_fit(image, objects, "REPLACE")
    mask = objects_mask(image, objects)
    if is_removal(prompt):
        return remove(image, mask)
    color = recolor_target(prompt)
    if color is None:
        raise unsupported(prompt)
    return recolor(image, mask, color)


class LiteReplacer:
    """OpenCV only: loads no model. ``run_batch(calls)`` gives an image or an exception per call."""

    def __init__(self, context=None):
        self.context = context

    def run(self, image, object, prompt):
        return replace(image, object, prompt)

    def run_batch(self, calls):
        return each(calls, lambda call: replace(call["image"], call["object"], call["prompt"]))
