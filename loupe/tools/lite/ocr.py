"""Reading text with RapidOCR (PaddleOCR's PP-OCR detector + recogniser, run by onnxruntime).

The ``rapidocr`` wheel (3.10.0) ships its default ONNX models (``PP-OCRv6_det_small``,
``PP-OCRv6_rec_small`` with its character table inside, ``ch_ppocr_mobile_v2.0_cls``), so nothing is
downloaded at run time; ``tests/tools/lite/test_ocr.py`` checks that with the network blocked.

Orientation: RapidOCR's 0/180 degree line classifier is off. On photos it turned upright lines that
look alike upside down (a seven-segment clock's "4:33" became "EE:h", read with full confidence), and
photos are upright far more often than not. Instead every line read with less than ``CONFIDENT``
confidence is read again, turned half a turn and enlarged with a margin, and the most confident of
the readings is kept (a line really upside down reads with low confidence upright; its turned reading
must itself be confident, so a smudge read as noise both ways stays dropped).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image, Obj, Objects
from loupe.tools.text_candidates import reading_order

DEFAULT_MIN_SCORE = 0.9  # calibrated (bench/calibrate.py): 0.5 kept three false lines for each exact one
CONFIDENT = 0.9  # lines read with less confidence than this are read again (turned, enlarged)
FIRST_PASS_MIN = 0.3  # lines below this on the first reading are dropped before any second reading
BETTER_BY = 0.05  # a second reading replaces the first only when this much more confident
RETRIES = False  # second readings: off, chosen on the calibration photos' tune half (80 -> 75 errors there)
MARGIN = 0.15  # margin added around a line for its enlarged reading, as a fraction of its height
LINE_HEIGHT = 64  # pixels: the enlarged reading's line height (the recogniser itself works at 48)


def text_objects(polygons, texts: Sequence[str], scores: Sequence[float], min_score: float,
                 image_size: tuple[int, int]) -> Objects:
    """Lines of text as ``Objects``: ``polygons`` ``[N, 4, 2]`` (x, y pixels) -> axis-aligned boxes.

    Lines whose recognition confidence is below ``min_score`` or whose text is blank are dropped.
    """
    width, height = image_size
    items = []
    for polygon, text, score in zip(polygons, texts, scores):
        if float(score) < min_score or not str(text).strip():
            continue
        points = np.asarray(polygon, dtype=float).reshape(-1, 2)
        x1, y1 = np.clip(points.min(axis=0), 0, [width, height])
        x2, y2 = np.clip(points.max(axis=0), 0, [width, height])
        items.append(Obj((x1, y1, x2, y2), "text", float(score), text=str(text).strip()))
    return Objects(tuple(items), image_size)


def line_crop(pixels: np.ndarray, polygon, margin: float = 0.0) -> np.ndarray:
    """The line inside ``polygon`` (``[4, 2]`` x, y pixels, clockwise from top left) of ``pixels``
    (``[H, W, 3]`` uint8), straightened to a ``[h, w, 3]`` strip with ``margin`` x its height added
    around it; a line standing on its end (h >= 1.5 w) is turned to lie flat, as RapidOCR does."""
    import cv2

    points = np.asarray(polygon, dtype=np.float32).reshape(4, 2)
    width = max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3]))
    height = max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2]))
    pad = margin * min(width, height)
    target = np.array([[pad, pad], [width + pad, pad], [width + pad, height + pad], [pad, height + pad]],
                      dtype=np.float32)
    size = (max(1, int(round(width + 2 * pad))), max(1, int(round(height + 2 * pad))))
    strip = cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(points, target), size,
                                borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    return np.rot90(strip) if strip.shape[0] >= 1.5 * strip.shape[1] else strip


def second_readings(pixels: np.ndarray, polygon) -> list[np.ndarray]:
    """The other views of a doubtful line: upright with a margin and enlarged to ``LINE_HEIGHT``, and
    the same turned half a turn."""
    import cv2

    strip = line_crop(pixels, polygon, MARGIN)
    scale = LINE_HEIGHT / max(1, strip.shape[0])
    if scale > 1:
        size = (max(1, int(round(strip.shape[1] * scale))), LINE_HEIGHT)
        strip = cv2.resize(strip, size, interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(strip), np.ascontiguousarray(strip[::-1, ::-1])]


class TextReader:
    """Finds and reads lines of text (label "text", ``text`` = the string, score = recognition confidence).

    The engine loads on first use; ``device`` "cuda" asks onnxruntime for its CUDA provider.
    """

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._engine = None

    def read(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE) -> list[Objects]:
        """One ``Objects`` per image, lines in reading order (rows top down, each left to right; bottom
        up, right to left when most lines were read turned half a turn: the photo is upside down)."""
        found = []
        for image in images:
            bgr = np.ascontiguousarray(image.pixels[..., ::-1])  # RapidOCR wants BGR arrays
            polygons, texts, scores, turned = self._read_lines(bgr)
            lines = reading_order(text_objects(polygons, texts, scores, min_score, image.size))
            upside_down = 2 * sum(turned) > len(turned)
            found.append(lines.with_items(reversed(lines.items)) if upside_down else lines)
        return found

    def _read_lines(self, bgr: np.ndarray) -> tuple[list, list[str], list[float], list[bool]]:
        """Polygons ``[4, 2]``, texts, confidences 0..1 and whether read turned, of the lines in a
        ``[H, W, 3]`` BGR array."""
        engine = self._load()
        result = engine(bgr, use_cls=False, text_score=FIRST_PASS_MIN)
        if result.boxes is None or not len(result.boxes):
            return [], [], [], []
        polygons, texts, scores = list(result.boxes), list(result.txts), [float(s) for s in result.scores]
        turned = [False] * len(texts)
        doubtful = [i for i, score in enumerate(scores) if score < CONFIDENT] if RETRIES else []
        if doubtful:
            views = [v for i in doubtful for v in second_readings(bgr, polygons[i])]
            again = engine.recognize_txt(views)
            for k, i in enumerate(doubtful):
                for view, (text, score) in enumerate(zip(again.txts[2 * k:2 * k + 2], again.scores[2 * k:2 * k + 2])):
                    needed = max(scores[i] + BETTER_BY, CONFIDENT if view else 0.0)
                    if float(score) > needed and str(text).strip():
                        texts[i], scores[i], turned[i] = str(text), float(score), bool(view)
        return polygons, texts, scores, turned

    def _load(self):
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as error:
                raise ToolUnavailable("text reading needs the `rapidocr` and `onnxruntime` packages; "
                                      "install them with `pip install rapidocr onnxruntime`") from error
            params = {"Global.log_level": "error", "Global.use_cls": False,
                      "EngineConfig.onnxruntime.use_cuda": self.device.startswith("cuda")}
            self._engine = RapidOCR(params=params)
        return self._engine
