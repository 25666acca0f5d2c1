"""OCR on the lite tier: RapidOCR (PP-OCR ONNX models shipped in its wheel), one object per text line."""

from __future__ import annotations

from loupe.tools.lite.backends.base import LiteBackend, images_of


class LiteReader(LiteBackend):
    def run_batch(self, calls):
        return self.vision.text(images_of(calls))
