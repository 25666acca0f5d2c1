"""Reading text with RapidOCR (PaddleOCR's PP-OCR detector + recogniser, run by onnxruntime).

The ``rapidocr`` wheel (3.10.0) ships its default ONNX models (``PP-OCRv6_det_small``,
``PP-OCRv6_rec_small`` with its character table inside, ``ch_ppocr_mobile_v2.0_cls``), so nothing is
downloaded at run time; ``tests/tools/lite/test_ocr.py`` checks that with the network blocked.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from programs.errors import ToolUnavailable
from programs.values import Image, Obj, Objects
from tools.text_candidates import reading_order

DEFAULT_MIN_SCORE = 0.5


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


class TextReader:
    """Finds and reads lines of text (label "text", ``text`` = the string, score = recognition confidence).

    The engine loads on first use; ``device`` "cuda" asks onnxruntime for its CUDA provider.
    """

    def __init__(self, device: str = "cpu"):
        self.device = device
        self._engine = None

    def read(self, images: Sequence[Image], min_score: float = DEFAULT_MIN_SCORE) -> list[Objects]:
        """One ``Objects`` per image, lines in reading order (rows top down, each left to right)."""
        engine = self._load()
        found = []
        for image in images:
            result = engine(np.ascontiguousarray(image.pixels[..., ::-1]))  # RapidOCR wants BGR arrays
            if result.boxes is None:
                found.append(Objects.empty(image.size))
                continue
            found.append(reading_order(text_objects(result.boxes, result.txts, result.scores, min_score,
                                                    image.size)))
        return found

    def _load(self):
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as error:
                raise ToolUnavailable("text reading needs the `rapidocr` and `onnxruntime` packages; "
                                      "install them with `pip install rapidocr onnxruntime`") from error
            params = {"Global.log_level": "error",
                      "EngineConfig.onnxruntime.use_cuda": self.device.startswith("cuda")}
            self._engine = RapidOCR(params=params)
        return self._engine
