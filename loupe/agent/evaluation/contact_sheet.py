"""The contact sheet of an evaluation's edits: one row per edit item with the input and the output side
by side, the benchmark's target regions outlined (dashed yellow on the input; on the output too when it
kept the size), and the verdict: PASS/FAIL, the query, the check's reason or the error.

Written as ``contact_sheet.png`` next to ``summary.png``; thumbnails are at most ``THUMB`` pixels on a
side and the sheet is stored with a 256-colour palette, so a sheet of a dozen edits stays well under 1 MB.
"""

from __future__ import annotations

from pathlib import Path
import textwrap
from typing import Sequence

from PIL import Image as PILImage, ImageDraw

from loupe.tools.drawing import label_font

THUMB = (300, 225)           # the largest thumbnail, (width, height) pixels
TEXT_WIDTH = 420             # the column with the verdict, pixels
PAD = 8
PASS, FAIL, REGION = (30, 140, 60), (200, 30, 40), (255, 215, 0)


def write_contact_sheet(path: str | Path, rows: Sequence[dict], items: Sequence, images_dir: str | Path,
                        out_dir: str | Path) -> Path | None:
    """One PNG for the edit rows (``results.jsonl`` rows whose item ``kind`` is ``edit``); None when the
    run had no edits. ``items``: the benchmark items (for images and regions), by position or id."""
    by_id = {item.id: item for item in items}
    edits = [(row, by_id[row["id"]]) for row in rows if row.get("kind") == "edit" and row["id"] in by_id]
    if not edits:
        return None
    tiles = [_row_tile(row, item, Path(images_dir), Path(out_dir)) for row, item in edits]
    width = max(t.width for t in tiles)
    sheet = PILImage.new("RGB", (width, sum(t.height for t in tiles)), "white")
    top = 0
    for tile in tiles:
        sheet.paste(tile, (0, top))
        top += tile.height
    path = Path(path)
    sheet.quantize(colors=256, method=PILImage.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def _row_tile(row: dict, item, images_dir: Path, out_dir: Path) -> PILImage.Image:
    before = PILImage.open(images_dir / item.images[0]).convert("RGB")
    after = PILImage.open(out_dir / row["output_image"]).convert("RGB") if row.get("output_image") else None
    regions = list(item.regions)
    left = _thumb(before, regions, "input")
    same_size = after is not None and after.size == before.size
    right = _thumb(after, regions if same_size else [], "output") if after is not None else _missing()
    tile = PILImage.new("RGB", (2 * THUMB[0] + 3 * PAD + TEXT_WIDTH, THUMB[1] + 2 * PAD + 18), "white")
    tile.paste(left, (PAD, PAD + 18))
    tile.paste(right, (2 * PAD + THUMB[0], PAD + 18))
    draw = ImageDraw.Draw(tile)
    draw.text((PAD, PAD - 2), f"{item.id}: input", font=label_font(13), fill=(60, 60, 60))
    draw.text((2 * PAD + THUMB[0], PAD - 2), "output", font=label_font(13), fill=(60, 60, 60))
    _verdict(draw, row, 3 * PAD + 2 * THUMB[0], PAD)
    draw.line((0, tile.height - 1, tile.width, tile.height - 1), fill=(200, 200, 200))
    return tile


def _thumb(image: PILImage.Image, regions, label: str) -> PILImage.Image:
    scale = min(THUMB[0] / image.width, THUMB[1] / image.height, 1.0)
    small = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         PILImage.Resampling.LANCZOS)
    draw = ImageDraw.Draw(small)
    for box in regions:
        x1, y1, x2, y2 = (v * scale for v in box)
        _dashed_rectangle(draw, (x1, y1, x2, y2), REGION)
    return small


def _dashed_rectangle(draw: ImageDraw.ImageDraw, box, colour, dash: int = 6) -> None:
    x1, y1, x2, y2 = box
    for (ax, ay, bx, by) in ((x1, y1, x2, y1), (x2, y1, x2, y2), (x2, y2, x1, y2), (x1, y2, x1, y1)):
        length = max(abs(bx - ax), abs(by - ay))
        steps = max(1, int(length // dash))
        for i in range(0, steps, 2):
            t0, t1 = i / steps, min(1.0, (i + 1) / steps)
            draw.line((ax + (bx - ax) * t0, ay + (by - ay) * t0, ax + (bx - ax) * t1, ay + (by - ay) * t1),
                      fill=colour, width=2)


def _missing() -> PILImage.Image:
    tile = PILImage.new("RGB", (THUMB[0], THUMB[1] // 2), (240, 240, 240))
    ImageDraw.Draw(tile).text((10, 10), "no image came back", font=label_font(14), fill=(120, 120, 120))
    return tile


def _verdict(draw: ImageDraw.ImageDraw, row: dict, x: int, y: int) -> None:
    ok = bool(row.get("correct"))
    draw.text((x, y), "PASS" if ok else "FAIL", font=label_font(18), fill=PASS if ok else FAIL)
    lines = textwrap.wrap(row.get("query", ""), 52)[:3]
    detail = row.get("check") or ""
    if row.get("errors"):
        detail = f"{detail}; error: {row['errors'][0]}" if detail else f"error: {row['errors'][0]}"
    lines += [""] + textwrap.wrap(detail, 60)[:9]
    for i, line in enumerate(lines):
        draw.text((x, y + 26 + 16 * i), line, font=label_font(13), fill=(40, 40, 40))
