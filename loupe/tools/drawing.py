"""Drawing objects on an image, kept apart from the results themselves (used by TAG and the rationale).

``draw_objects`` returns a new ``Image``: translucent mask overlays, then boxes, then name labels, each
object in its own colour. Boxes are ``(x1, y1, x2, y2)`` pixels (end-exclusive) in the image's own
coordinates; a mask is drawn only when its shape matches the image.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image as PILImage, ImageDraw, ImageFont

from loupe.programs.values import Image, Obj, Objects, clip_box
from loupe.tools.imageops import composite

# Well-separated colours (after Sasha Trubetskoy's "20 distinct colours"), RGB.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
    (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40), (128, 0, 0), (0, 0, 128),
)
MAX_LABEL_CHARS = 40


def colour_for(index: int) -> tuple[int, int, int]:
    """The drawing colour of the ``index``-th object (cycles through ``PALETTE``)."""
    return PALETTE[index % len(PALETTE)]


def caption(obj: Obj, score: bool = False) -> str:
    """What a label says: the OCR text when there is one, else the name (category, else label)."""
    text = obj.text or obj.name or "object"
    if score:
        text = f"{text} {obj.score:.2f}"
    if len(text) > MAX_LABEL_CHARS:
        text = text[:MAX_LABEL_CHARS - 1] + "…"
    return " ".join(text.split())


@functools.lru_cache(maxsize=16)
def label_font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in font at ``size`` pixels (loaded once per size)."""
    return ImageFont.load_default(size=size)


def _scale(image: Image, fraction: float, least: int) -> int:
    return max(least, round(fraction * min(image.width, image.height)))


def draw_objects(image: Image, objects: Objects, *, boxes: bool = True, labels: bool = True,
                 masks: bool = True, scores: bool = False, mask_opacity: float = 0.45) -> Image:
    """A copy of ``image`` with ``objects`` drawn on it; ``image`` itself is not changed."""
    pixels = _overlay_masks(image, objects, mask_opacity) if masks else np.array(image.pixels)
    canvas = PILImage.fromarray(pixels)
    draw = ImageDraw.Draw(canvas)
    width = _scale(image, 1 / 200, 2)
    font = label_font(_scale(image, 1 / 28, 11))
    placed = [clip_box(obj.box, image.width, image.height) for obj in objects]
    if boxes:
        for index, (x1, y1, x2, y2) in enumerate(placed):
            draw.rectangle((x1, y1, x2 - 1, y2 - 1), outline=colour_for(index), width=width)
    if labels:
        for index, (obj, box) in enumerate(zip(objects, placed, strict=True)):
            _draw_label(draw, caption(obj, scores), box, colour_for(index), font, image.size)
    return image.with_pixels(np.asarray(canvas))


def _overlay_masks(image: Image, objects: Objects, opacity: float) -> np.ndarray:
    pixels = np.array(image.pixels)
    for index, obj in enumerate(objects):
        if obj.mask is None or obj.mask.shape != (image.height, image.width):
            continue
        colour = np.broadcast_to(np.array(colour_for(index), dtype=np.uint8), pixels.shape)
        pixels = composite(pixels, colour, obj.mask.astype(np.float32) * opacity)
    return pixels


def _draw_label(draw: ImageDraw.ImageDraw, text: str, box: tuple[int, int, int, int],
                colour: tuple[int, int, int], font, image_size: tuple[int, int]) -> None:
    """``text`` on a filled tag at the box's top-left corner: above the box if there is room, else inside."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = max(2, (bottom - top) // 5)
    tag_w, tag_h = right - left + 2 * pad, bottom - top + 2 * pad
    x = min(box[0], max(0, image_size[0] - tag_w))
    y = box[1] - tag_h if box[1] - tag_h >= 0 else box[1]
    draw.rectangle((x, y, x + tag_w - 1, y + tag_h - 1), fill=colour)
    draw.text((x + pad - left, y + pad - top), text, font=font, fill=_ink_for(colour))


def _ink_for(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on ``colour``."""
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    return (0, 0, 0) if luma > 150 else (255, 255, 255)
