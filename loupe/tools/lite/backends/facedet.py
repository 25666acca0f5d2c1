"""FACEDET on the lite tier: BlazeFace over the whole photo and tiles (small faces in large photos)."""

from __future__ import annotations

from loupe.tools.lite.backends.base import LiteBackend, images_of


class LiteFaceDetector(LiteBackend):
    def run_batch(self, calls):
        return self.vision.faces(images_of(calls))
