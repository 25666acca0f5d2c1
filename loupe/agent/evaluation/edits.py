"""The automatic check of an edit: it ran, returned an image, used the expected tools, and did what
that kind of edit should do to the benchmark's regions (the ground truth: ``[x1, y1, x2, y2]`` pixel
boxes in the input image, one per object concerned).

The edit is the first of ``expect_tools`` that this module knows (see ``edit_measures`` for the core,
grown box and rest of a region):

* ``COLORPOP`` — each region keeps its colours (its core's colourful pixels stay colourful) and the rest
  is grey (an already grey background passes: there is nothing to grey);
* ``BGBLUR`` — each region stays sharp (its core keeps its high-frequency energy, small mean difference)
  and the rest loses high-frequency energy (a background with no detail passes: nothing to blur);
* ``BLUR``, ``EMOJI``, ``TAG`` — each region changed (a quarter of its box; for TAG an outline around
  it; for BLUR, or its core lost its detail: a small face blurred inside a larger hand-drawn box changes
  few of the box's pixels) and most of the change lies inside the grown regions;
* ``REPLACE`` — each region changed and the rest did not (at most 5% of its pixels changed);
* ``CROP`` (and the directional crops) — the output is a piece of the input that holds the regions'
  union box (90% of it) without being much larger (the union box is at least 20% of the crop).

Without a region only the tools are checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from loupe.agent.evaluation import edit_measures as m

LOCAL_EDITS = ("BLUR", "EMOJI", "TAG")
KEEP_EDITS = ("COLORPOP", "BGBLUR")  # keep the regions, change the rest: an already grey/smooth rest may not change
CROPS = ("CROP", "CROP_LEFTOF", "CROP_RIGHTOF", "CROP_ABOVE", "CROP_BELOW")
MAX_CHANGE_ELSEWHERE = 0.35   # local edits: share of the changed pixels allowed outside the grown regions
MIN_REGION_CHANGED = 0.25     # BLUR/EMOJI/REPLACE: share of each region's box that must change
MIN_OUTLINE = 0.5             # TAG: changed pixels around each region / its perimeter
MIN_COLOUR_KEPT = 0.5         # COLORPOP: share of a core's colourful pixels still colourful
MIN_UNCHANGED = 0.5           # COLORPOP/BGBLUR on a colourless core: share of its pixels unchanged
MIN_GREY_REST = 0.9           # COLORPOP: share of the rest that is grey
MIN_DETAIL_KEPT = 0.75        # BGBLUR: a core's high-frequency energy after / before
MAX_CORE_DIFFERENCE = 10.0    # BGBLUR: a core's mean absolute difference (0..255)
MAX_DETAIL_REST = 0.6         # BGBLUR: the rest's high-frequency energy after / before
MIN_DETAIL_ENERGY = 1.0       # BGBLUR: a rest with less energy than this has nothing to blur
MAX_REST_CHANGED = 0.05       # REPLACE: share of the rest's pixels allowed to change
MIN_CROP_COVER, MIN_CROP_TIGHTNESS, MAX_CROP_ERROR = 0.9, 0.2, 4.0


@dataclass(frozen=True)
class EditCheck:
    """``ok`` with a reason; ``measures``: the numbers the verdict rests on (for reports)."""

    ok: bool
    reason: str
    missing_tools: tuple[str, ...] = ()
    measures: dict = field(default_factory=dict)


def edit_kind(expect_tools: Sequence[str]) -> str:
    """The edit that ``expect_tools`` asks for ('' when none this module knows)."""
    for tool in expect_tools:
        if tool in CROPS:
            return "CROP"
        if tool in ("COLORPOP", "BGBLUR", "REPLACE") + LOCAL_EDITS:
            return tool
    return ""


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
    kind = edit_kind(expect_tools)
    if kind == "CROP":
        return check_crop(before, after, regions)
    if before.shape != after.shape:
        return EditCheck(False, f"the output is {after.shape[1]}x{after.shape[0]}, the input "
                                f"{before.shape[1]}x{before.shape[0]}; this edit keeps the size")
    if kind not in KEEP_EDITS and not m.changed_pixels(before, after).any():
        return EditCheck(False, "the output image is the same as the input")
    return _CHECKS.get(kind, check_local)(before, after, regions)


def _masks(before: np.ndarray, regions) -> tuple[list[np.ndarray], np.ndarray]:
    """Each region's core and the rest of the image (outside every grown region)."""
    height, width = before.shape[:2]
    cores = [m.core_mask(box, width, height) for box in regions]
    return cores, ~m.grown_mask(regions, width, height)


def check_colorpop(before, after, regions) -> EditCheck:
    cores, rest = _masks(before, regions)
    grey = m.grey_share(after, rest)
    kept = [m.colour_kept(before, after, core) for core in cores]
    scores = [colour if colour is not None else unchanged for colour, unchanged in kept]
    worst = int(np.argmin(scores))
    colourless = kept[worst][0] is None
    region_ok = scores[worst] >= (MIN_UNCHANGED if colourless else MIN_COLOUR_KEPT)
    what = "of its pixels unchanged (it has no colour)" if colourless else "of its colourful pixels kept"
    reason = (f"region {worst + 1}: {scores[worst]:.0%} {what}; the rest: {grey:.0%} grey "
              f"(needs {MIN_GREY_REST:.0%})")
    return EditCheck(region_ok and grey >= MIN_GREY_REST, reason,
                     measures={"region_kept": round(scores[worst], 3), "rest_grey": round(grey, 3)})


def check_bgblur(before, after, regions) -> EditCheck:
    cores, rest = _masks(before, regions)
    rest_ratio, rest_energy = m.detail_kept(before, after, rest)
    nothing_to_blur = rest_energy < MIN_DETAIL_ENERGY
    core_ratios = [m.detail_kept(before, after, core)[0] for core in cores]
    differences = [m.mean_difference(before, after, core) for core in cores]
    worst = int(np.argmin([r - d / 100 for r, d in zip(core_ratios, differences)]))
    region_ok = core_ratios[worst] >= MIN_DETAIL_KEPT and differences[worst] <= MAX_CORE_DIFFERENCE
    rest_ok = nothing_to_blur or rest_ratio <= MAX_DETAIL_REST
    rest_text = "has no detail to blur" if nothing_to_blur else f"keeps {rest_ratio:.0%} of its detail"
    reason = (f"region {worst + 1} keeps {core_ratios[worst]:.0%} of its detail (mean difference "
              f"{differences[worst]:.1f}); the rest {rest_text} (needs <= {MAX_DETAIL_REST:.0%})")
    return EditCheck(region_ok and rest_ok, reason,
                     measures={"region_detail": round(core_ratios[worst], 3),
                               "region_difference": round(differences[worst], 2), "rest_detail": round(rest_ratio, 3)})


def _region_changes(before, after, regions, changed) -> list[float]:
    height, width = before.shape[:2]
    return [float(changed[m.box_mask(box, width, height)].mean()) for box in regions]


def check_local(before, after, regions, tag: bool = False, blur: bool = False) -> EditCheck:
    """BLUR/EMOJI (and TAG with ``tag``): every region changed; the change mostly inside the regions. With
    ``blur``, a region whose core lost its detail counts as changed too."""
    height, width = before.shape[:2]
    changed = m.changed_pixels(before, after)
    inside = float((changed & m.grown_mask(regions, width, height)).sum()) / max(1, int(changed.sum()))
    if tag:  # an outline: the grown box must hold as many changed pixels as half the box's perimeter
        perimeters = [2 * (abs(b[2] - b[0]) + abs(b[3] - b[1])) for b in regions]
        drawn = [float(changed[m.box_mask(b, width, height, m.REGION_MARGIN, m.REGION_MARGIN_PX)].sum()) / p
                 for b, p in zip(regions, perimeters)]
        worst = int(np.argmin(drawn))
        region_ok = drawn[worst] >= MIN_OUTLINE
        region_text = f"changed pixels {drawn[worst]:.1f}x its perimeter (needs {MIN_OUTLINE})"
    else:
        shares = _region_changes(before, after, regions, changed)
        if blur:  # a blurred core (detail ratio <= MAX_DETAIL_REST) counts as a changed region
            cores, _ = _masks(before, regions)
            kept = [m.detail_kept(before, after, core)[0] for core in cores]
            shares = [max(share, MIN_REGION_CHANGED if ratio <= MAX_DETAIL_REST else 0.0)
                      for share, ratio in zip(shares, kept)]
        worst = int(np.argmin(shares))
        region_ok, region_text = shares[worst] >= MIN_REGION_CHANGED, f"{shares[worst]:.0%} of it changed"
    reason = f"region {worst + 1}: {region_text}; {inside:.0%} of the change is inside the regions"
    return EditCheck(region_ok and inside >= 1.0 - MAX_CHANGE_ELSEWHERE, reason, measures={"inside": round(inside, 3)})


def check_replace(before, after, regions) -> EditCheck:
    _, rest = _masks(before, regions)
    changed = m.changed_pixels(before, after)
    shares = _region_changes(before, after, regions, changed)
    worst = int(np.argmin(shares))
    rest_changed = float(changed[rest].mean()) if rest.any() else 0.0
    reason = (f"region {worst + 1}: {shares[worst]:.0%} of it changed; the rest: {rest_changed:.1%} changed "
              f"(allowed {MAX_REST_CHANGED:.0%})")
    return EditCheck(shares[worst] >= MIN_REGION_CHANGED and rest_changed <= MAX_REST_CHANGED, reason,
                     measures={"region_changed": round(shares[worst], 3), "rest_changed": round(rest_changed, 4)})


def check_crop(before, after, regions) -> EditCheck:
    found = m.locate_crop(before, after)
    if found is None or found[1] > MAX_CROP_ERROR:
        return EditCheck(False, f"the {after.shape[1]}x{after.shape[0]} output is not a piece of the input")
    box, _ = found
    target = m.union_box(regions)
    covered, tightness = m.box_overlap(box, target)
    if box == (0, 0, before.shape[1], before.shape[0]):
        return EditCheck(False, "the output is the whole input: nothing was cropped",
                         measures={"covered": round(covered, 3), "tightness": round(tightness, 3)})
    reason = (f"the crop {list(box)} holds {covered:.0%} of the target box (needs {MIN_CROP_COVER:.0%}); "
              f"the target is {tightness:.0%} of the crop (needs {MIN_CROP_TIGHTNESS:.0%})")
    return EditCheck(covered >= MIN_CROP_COVER and tightness >= MIN_CROP_TIGHTNESS, reason,
                     measures={"covered": round(covered, 3), "tightness": round(tightness, 3)})


_CHECKS: dict[str, Callable[..., EditCheck]] = {
    "COLORPOP": check_colorpop, "BGBLUR": check_bgblur, "REPLACE": check_replace,
    "TAG": lambda before, after, regions: check_local(before, after, regions, tag=True),
    "BLUR": lambda before, after, regions: check_local(before, after, regions, blur=True)}
