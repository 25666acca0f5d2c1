"""HTML fragments showing one value in the visual rationale.

Every piece of text is HTML-escaped: labels, answers and OCR text come from models and users, so a
label ``<script>`` must show as text. Images are embedded as ``data:`` URLs (no external resources).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
import threading
from html import escape
import io

import numpy as np

from loupe.programs.values import Image, Objects, as_text

THUMBNAIL_SIDE = 320  # longest side of an inline thumbnail, in pixels
MAX_ITEMS = 50        # list items and table rows shown before "... and N more"


_ENCODED: "OrderedDict[tuple[int, int], tuple[np.ndarray, str]]" = OrderedDict()
_ENCODED_MAX = 32
_ENCODED_LOCK = threading.Lock()


def image_data_url(image: Image, max_side: int = THUMBNAIL_SIDE) -> str:
    """A ``data:`` URL of ``image`` shrunk to at most ``max_side`` pixels (PNG when small, else JPEG).

    The same (read-only) pixels shown again, as the input of every step, are encoded once: the last
    few encodings are kept by the pixels' identity (holding the array, so the identity is not reused).
    """
    key = (id(image.pixels), max_side)
    with _ENCODED_LOCK:
        if key in _ENCODED:
            _ENCODED.move_to_end(key)
            return _ENCODED[key][1]
    url = _encode(image, max_side)
    with _ENCODED_LOCK:
        _ENCODED[key] = (image.pixels, url)
        while len(_ENCODED) > _ENCODED_MAX:
            _ENCODED.popitem(last=False)
    return url


def _encode(image: Image, max_side: int) -> str:
    pil = image.to_pil()
    pil.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    if pil.width * pil.height <= 96 * 96:
        pil.save(buffer, format="PNG")
        kind = "png"
    else:
        pil.save(buffer, format="JPEG", quality=85)
        kind = "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image_html(image: Image, max_side: int = THUMBNAIL_SIDE, css_class: str = "thumb") -> str:
    """An ``<img>`` showing ``image`` inline; its alt text gives the size and source file."""
    alt = f"image {image.width}x{image.height}" + (f" from {image.source}" if image.source else "")
    return (f'<img class="{css_class}" src="{image_data_url(image, max_side)}" '
            f'alt="{escape(alt)}" title="{escape(alt)}">')


def objects_table(objects: Objects) -> str:
    """A table of the objects: name, score, box (x1, y1, x2, y2 pixels), and OCR text if any."""
    if not len(objects):
        return '<span class="none">no objects</span>'
    rows = []
    for index, obj in enumerate(objects.items[:MAX_ITEMS]):
        box = ", ".join(f"{v:.0f}" for v in obj.box)
        extra = " (mask)" if obj.mask is not None else ""
        rows.append(f"<tr><td>{index}</td><td>{escape(obj.name)}</td><td>{escape(obj.text)}</td>"
                    f"<td>{obj.score:.2f}</td><td>({box}){extra}</td></tr>")
    more = len(objects) - MAX_ITEMS
    tail = f'<tr><td colspan="5">... and {more} more</td></tr>' if more > 0 else ""
    head = "<tr><th>#</th><th>name</th><th>text</th><th>score</th><th>box (x1, y1, x2, y2)</th></tr>"
    return f'<table class="objects">{head}{"".join(rows)}{tail}</table>'


def value_html(value) -> str:
    """An HTML fragment for any value a program computes (or an argument it was given)."""
    if isinstance(value, Image):
        return image_html(value)
    if isinstance(value, Objects):
        return objects_table(value)
    if value is None:
        return '<span class="none">none</span>'
    if isinstance(value, (bool, int, float)):
        return f'<span class="scalar">{escape(as_text(value))}</span>'
    if isinstance(value, str):
        return f'<span class="text">{escape(value)}</span>'
    if isinstance(value, (tuple, list)):
        return _list_html(value)
    if isinstance(value, dict):
        items = "".join(f"<li>{escape(str(k))}: {value_html(v)}</li>" for k, v in list(value.items())[:MAX_ITEMS])
        return f'<ul class="values">{items}</ul>'
    return f'<span class="other">{escape(repr(value))}</span>'


def _list_html(values) -> str:
    if not values:
        return '<span class="none">empty list</span>'
    items = "".join(f"<li>{value_html(v)}</li>" for v in values[:MAX_ITEMS])
    more = len(values) - MAX_ITEMS
    tail = f"<li>... and {more} more</li>" if more > 0 else ""
    return f'<ol class="values">{items}{tail}</ol>'
