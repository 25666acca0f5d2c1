"""Benchmark items: one JSON object per line (the format is in docs/benchmark-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import re

from loupe.programs.errors import ProgramError
from loupe.programs.images import is_relative_name

KINDS = ("answer", "edit")


@dataclass(frozen=True)
class Item:
    """One question (``kind="answer"``) or edit instruction (``kind="edit"``).

    ``images``: one file name, or ``[left, right]`` for a two-image statement. ``regions``: ``[x1, y1,
    x2, y2]`` pixel boxes in the original image.
    """

    id: str
    query: str
    kind: str
    images: tuple[str, ...]
    answers: tuple[str, ...] = ()
    expect_tools: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    regions: tuple[tuple[float, float, float, float], ...] = ()

    @property
    def two_images(self) -> bool:
        return len(self.images) == 2

    @classmethod
    def from_json(cls, data: dict, where: str = "") -> "Item":
        def bad(message: str) -> ProgramError:
            return ProgramError.at(f"{where}: {message}",
                                   suggestion="see docs/benchmark-format.md for the keys of an item")

        for key in ("id", "query", "kind"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise bad(f"the item needs a non-empty text {key!r}")
        if data["kind"] not in KINDS:
            raise bad(f"kind must be one of {', '.join(KINDS)}, not {data['kind']!r}")
        images = data.get("images") or ([data["image"]] if data.get("image") else [])
        if len(images) not in (1, 2) or not all(isinstance(i, str) for i in images):
            raise bad("give 'image' (a file name) or 'images' ([left, right])")
        if not all(is_relative_name(i) for i in images):
            raise bad("image names are paths relative to --images (no absolute path, no '..')")
        answers = tuple(str(a) for a in data.get("answers", ()))
        if data["kind"] == "answer" and not answers:
            raise bad("an answer item needs a non-empty 'answers' list")
        regions = tuple(tuple(float(v) for v in box) for box in data.get("region", ()) or ())
        if any(len(box) != 4 for box in regions):
            raise bad("each region must be [x1, y1, x2, y2]")
        return cls(data["id"], data["query"], data["kind"], tuple(images), answers,
                   tuple(data.get("expect_tools", ())), tuple(data.get("needs", ())), regions)


def file_stem(item_id: str) -> str:
    """A file name for an item's outputs: the id when it is a plain name (letters, digits, ``._-``, not
    starting with a dot), else its safe characters plus a hash of the id, so that ``../../x`` stays in
    the output folder and two ids never share a file."""
    if re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}", item_id):
        return item_id
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", item_id)[:60].strip("_") or "item"
    return f"{safe}-{hashlib.sha256(item_id.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def load_items(path: str | Path, limit: int | None = None) -> list[Item]:
    """Read a questions file; ``limit`` keeps the first N items. Raises ProgramError naming the line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ProgramError.at(f"cannot read the benchmark {path}: {error}") from None
    items, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise ProgramError.at(f"{where}: not JSON ({error.msg})") from None
        item = Item.from_json(data, where)
        if item.id in seen:
            raise ProgramError.at(f"{where}: the id {item.id!r} appears twice")
        seen.add(item.id)
        items.append(item)
    return items[:limit] if limit else items
