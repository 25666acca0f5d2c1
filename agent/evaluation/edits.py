"""The automatic check of an edit: it ran, returned an image, used the expected tools, and changed the
pixels where it should.

Regions are ``[x1, y1, x2, y2]`` pixel boxes in the original image. The check compares the output with
the input pixel by pixel (a pixel "changed" when any channel differs by more than ``PIXEL_TOLERANCE``):

* a local edit (blur, replace, emoji, tag) passes when some pixels inside the regions changed and at
  most ``MAX_CHANGE_ELSEWHERE`` of the changed pixels lie outside them;
* background blur (``BGBLUR``) is the opposite: the change must lie mostly outside the regions. So is a
  colour pop (``COLORPOP``), pixel-wise: it keeps the regions as they were and greys the rest.

Edits that change the image size (CROP) are checked for the tools only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

PIXEL_TOLERANCE = 12
REGION_MARGIN = 0.1      # regions are approximate: each box grows by 10% of its size per side ...
REGION_MARGIN_PX = 24    # ... plus 24 px (room for a TAG label drawn above its box)
MAX_CHANGE_ELSEWHERE = 0.35
OUTSIDE_EDITS = frozenset({"BGBLUR", "COLORPOP"})


@dataclass(frozen=True)
class EditCheck:
    """``ok`` with a reason. ``inside``: fraction of the changed pixels that lie inside the regions."""

    ok: bool
    reason: str
    missing_tools: tuple[str, ...] = ()
    inside: float | None = None


def region_mask(regions: Sequence[Sequence[float]], width: int, height: int) -> np.ndarray:
    """Boolean ``[H, W]`` mask, True inside any of the boxes, each grown by the margins (clipped)."""
    mask = np.zeros((height, width), dtype=bool)
    for box in regions:
        x1, y1, x2, y2 = grow(box)
        x1, x2 = sorted((int(max(0, min(width, x1))), int(max(0, min(width, x2)))))
        y1, y2 = sorted((int(max(0, min(height, y1))), int(max(0, min(height, y2)))))
        mask[y1:y2, x1:x2] = True
    return mask


def grow(box: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    dx = abs(x2 - x1) * REGION_MARGIN + REGION_MARGIN_PX
    dy = abs(y2 - y1) * REGION_MARGIN + REGION_MARGIN_PX
    return min(x1, x2) - dx, min(y1, y2) - dy, max(x1, x2) + dx, max(y1, y2) + dy


def changed_pixels(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Boolean ``[H, W]``: where any channel of the two ``uint8 [H, W, 3]`` images differs noticeably."""
    difference = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2)
    return difference > PIXEL_TOLERANCE


def check_edit(before: np.ndarray, after: np.ndarray | None, modules_used: Sequence[str],
               expect_tools: Sequence[str], regions: Sequence[Sequence[float]] = ()) -> EditCheck:
    """Check one edit. ``before``/``after``: ``uint8 [H, W, 3]`` pixels (``after`` None: no image came back)."""
    if after is None:
        return EditCheck(False, "the program returned no image")
    missing = tuple(t for t in expect_tools if t not in set(modules_used))
    if missing:
        return EditCheck(False, f"the program did not use {', '.join(missing)}", missing)
    if not regions:
        return EditCheck(True, "used the expected tools (no region to check)")
    if before.shape != after.shape:
        return EditCheck(True, "used the expected tools (the size changed: region not checked)")
    changed = changed_pixels(before, after)
    total = int(changed.sum())
    if total == 0:
        return EditCheck(False, "the output image is the same as the input", inside=0.0)
    inside_mask = region_mask(regions, before.shape[1], before.shape[0])
    inside = float((changed & inside_mask).sum()) / total
    if set(expect_tools) & OUTSIDE_EDITS:
        ok = 1.0 - inside >= 1.0 - MAX_CHANGE_ELSEWHERE
        where = "outside"
    else:
        ok = inside >= 1.0 - MAX_CHANGE_ELSEWHERE
        where = "inside"
    reason = f"{inside:.0%} of the change is inside the region(s); it should be mostly {where}"
    return EditCheck(ok, reason, inside=inside)
