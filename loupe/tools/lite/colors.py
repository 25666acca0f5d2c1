"""Naming colours the way people do: eleven basic colour words, judged in HSV and Lab (via OpenCV).

``dominant_color(image, mask)`` votes each masked pixel into one basic colour and returns the winner:

* very dark pixels and low-chroma pixels (Lab chroma) vote black / gray / white by lightness, at half
  weight, so shadows, highlights, windows and tyres do not outvote a clearly coloured body;
* the rest vote by hue (OpenCV's 0..179 scale), with dark orange/yellow as brown and pale red as pink;
* pixels near the region's centre count more (boxes hold background at their corners), and colours
  that are also common in a ring just outside the region are discounted (the near background).

``split_color("red bus")`` -> ``("red", "bus")``; ``rgb_of("blue")`` -> ``(0, 90, 255)``.
"""

from __future__ import annotations

import cv2
import numpy as np

from loupe.programs.values import Image
from loupe.tools.vocabulary import normalize

COLOR_WORDS: tuple[str, ...] = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
                                "black", "white", "gray")
ACHROMATIC = frozenset({"black", "white", "gray"})
_ALIASES = {"grey": "gray", "violet": "purple", "magenta": "pink", "navy": "blue", "cyan": "blue",
            "turquoise": "blue", "teal": "green", "lime": "green", "silver": "gray", "gold": "yellow",
            "golden": "yellow", "crimson": "red", "maroon": "red", "scarlet": "red", "beige": "brown",
            "tan": "brown"}
_RGB = {"red": (220, 20, 30), "orange": (255, 140, 0), "yellow": (255, 220, 0), "green": (30, 160, 40),
        "blue": (0, 90, 255), "purple": (130, 40, 180), "pink": (255, 120, 180), "brown": (130, 75, 30),
        "black": (15, 15, 15), "white": (245, 245, 245), "gray": (128, 128, 128)}
# Upper bounds of the chromatic hue bins on OpenCV's 0..179 hue circle (red wraps around).
_HUE_BINS = ((8, "red"), (20, "orange"), (33, "yellow"), (85, "green"), (128, "blue"), (157, "purple"),
             (171, "pink"), (180, "red"))
_INDEX = {name: i for i, name in enumerate(COLOR_WORDS)}
ACHROMATIC_WEIGHT = 0.5
BACKGROUND_DISCOUNT = 1.0
MAX_SAMPLES = 40_000


def color_word(word: str) -> str | None:
    """The basic colour a word names (``"grey"`` -> ``"gray"``), or None."""
    word = word.strip().lower()
    return word if word in _INDEX else _ALIASES.get(word)


def split_color(query: str) -> tuple[str | None, str]:
    """``("red", "bus")`` for ``"the red bus"``; ``(None, "bus")`` for ``"bus"``; ``("red", "")`` for ``"red"``.

    The first colour word is the colour; every colour word is removed from the noun.
    """
    words = normalize(query).split()
    colors = [color_word(w) for w in words]
    found = next((c for c in colors if c), None)
    return found, " ".join(w for w, c in zip(words, colors) if c is None)


def rgb_of(name: str) -> tuple[int, int, int]:
    """A typical ``(r, g, b)`` of a colour name (aliases understood); ValueError lists the valid names."""
    color = color_word(name)
    if color is None:
        raise ValueError(f"unknown colour {name!r}; expected one of {', '.join(COLOR_WORDS)}")
    return _RGB[color]


def pixel_colors(pixels: np.ndarray) -> np.ndarray:
    """Index into ``COLOR_WORDS`` of each RGB pixel: ``uint8`` ``[N, 3]`` -> ``int`` ``[N]``."""
    rgb = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 1, 3)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.int32)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    light = lab[:, 0] * 100 // 255
    chroma = np.hypot(lab[:, 1] - 128, lab[:, 2] - 128)
    out = np.zeros(len(rgb), dtype=np.int32)
    upper = [bound for bound, _ in _HUE_BINS]
    names = np.array([_INDEX[name] for _, name in _HUE_BINS])
    out[:] = names[np.searchsorted(upper, hue, side="right")]
    warm = np.isin(out, [_INDEX["orange"], _INDEX["yellow"]])
    out[warm & (val < 150)] = _INDEX["brown"]
    red = out == _INDEX["red"]
    out[red & (val < 110) & (sat < 170)] = _INDEX["brown"]
    out[red & (sat < 120) & (val > 170)] = _INDEX["pink"]
    grey = (chroma < 14) | (val < 45)
    out[grey] = np.where(light[grey] < 22, _INDEX["black"],
                         np.where(light[grey] > 80, _INDEX["white"], _INDEX["gray"]))
    return out


def _votes(pixels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Share of each colour among ``pixels`` ``[N, 3]`` (achromatic at half weight), ``float`` ``[11]``."""
    if len(pixels) == 0:
        return np.zeros(len(COLOR_WORDS))
    if len(pixels) > MAX_SAMPLES:  # a fixed stride keeps the answer deterministic
        step = len(pixels) // MAX_SAMPLES + 1
        pixels = pixels[::step]
        weights = None if weights is None else weights[::step]
    counts = np.bincount(pixel_colors(pixels), weights=weights, minlength=len(COLOR_WORDS)).astype(float)
    for name in ACHROMATIC:
        counts[_INDEX[name]] *= ACHROMATIC_WEIGHT
    return counts / max(counts.sum(), 1e-9)


def _centre_weights(region: np.ndarray) -> np.ndarray:
    """``float`` weight of each region pixel (in ``np.nonzero`` order): 1 at the centre, ~0.3 at corners."""
    ys, xs = np.nonzero(region)
    cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    hy, hx = max((ys.max() - ys.min()) / 2, 1), max((xs.max() - xs.min()) / 2, 1)
    return np.exp(-(((ys - cy) / hy) ** 2 + ((xs - cx) / hx) ** 2) / 2.0)


def _ring(region: np.ndarray) -> np.ndarray:
    """Boolean ``[H, W]`` band just outside ``region``, about 8% of its size wide."""
    ys, xs = np.nonzero(region)
    width = max(3, int(0.08 * max(ys.max() - ys.min(), xs.max() - xs.min())))
    grown = cv2.dilate(region.astype(np.uint8), np.ones((2 * width + 1, 2 * width + 1), np.uint8))
    return grown.astype(bool) & ~region


def color_shares(image: Image, region_mask: np.ndarray | None = None) -> dict[str, float]:
    """How strongly each colour name describes the region (``bool`` ``[H, W]``; None = whole image).

    Shares are centre-weighted pixel votes with the near background discounted; they sum to about 1.
    """
    region = np.ones(image.pixels.shape[:2], bool) if region_mask is None else np.asarray(region_mask, bool)
    if region.shape != image.pixels.shape[:2]:
        raise ValueError(f"colour mask must be [H, W] = {list(image.pixels.shape[:2])}; got {list(region.shape)}")
    if not region.any():
        raise ValueError("colour mask is empty; pass a mask with at least one True pixel")
    inside = _votes(image.pixels[region], _centre_weights(region))
    outside = _votes(image.pixels[_ring(region)])
    score = np.clip(inside - BACKGROUND_DISCOUNT * outside, 0, None)
    if score.sum() <= 0:
        score = inside
    score = score / score.sum()
    return {name: float(score[i]) for i, name in enumerate(COLOR_WORDS)}


def dominant_color(image: Image, region_mask: np.ndarray | None = None) -> str:
    """The basic colour name (one of ``COLOR_WORDS``) of the region ``bool`` ``[H, W]`` of ``image``."""
    shares = color_shares(image, region_mask)
    return max(COLOR_WORDS, key=lambda name: shares[name])


def object_region(image: Image, obj) -> np.ndarray:
    """Boolean ``[H, W]`` pixels of ``obj`` in ``image``: its mask, or its box when the mask is absent/empty."""
    region = obj.region_mask(image.width, image.height)
    return region if region.any() else obj.evolve(mask=None).region_mask(image.width, image.height)


# rows of a person's extent (0 = top of the head, 1 = the feet) that each clothing part covers
PARTS = {"head": (0.0, 0.18), "upper": (0.18, 0.55), "lower": (0.5, 0.92), "body": (0.18, 0.92)}


def person_part(image: Image, obj, part: str) -> np.ndarray:
    """Boolean ``[H, W]``: the band of ``obj``'s region (its mask, else its box) that ``part`` ('head',
    'upper', 'lower', 'body'; see ``PARTS``) covers, for a standing person; the whole region when the
    band is empty."""
    region = object_region(image, obj)
    rows = np.flatnonzero(region.any(axis=1))
    top, height = rows[0], rows[-1] + 1 - rows[0]
    start, end = PARTS[part]
    band = np.zeros_like(region)
    band[top + int(start * height):top + max(int(end * height), int(start * height) + 1)] = True
    return region & band if (region & band).any() else region
