"""The lite models shared by every lite backend, loaded on first use, with results cached per image.

LOC, SEG, SELECT, VQA and CAPTION on the same photo run the detector once: ``objects(images)``
remembers the last ``CACHE_SIZE`` images it saw (by identity; the cache holds the image, so an
identity cannot be reused while it is cached).
"""

from __future__ import annotations

from collections import OrderedDict
import threading
from typing import Callable, Sequence

import numpy as np

from loupe.programs.values import Image

CACHE_SIZE = 64


class _PerImageCache:
    def __init__(self, compute: Callable[[list[Image]], list]):
        self._compute = compute
        self._entries: OrderedDict[int, tuple[Image, object]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, images: Sequence[Image]) -> list:
        with self._lock:
            missing = list({id(i): i for i in images if id(i) not in self._entries}.values())
        results = self._compute(missing) if missing else []
        with self._lock:
            for image, result in zip(missing, results):
                self._entries[id(image)] = (image, result)
                while len(self._entries) > CACHE_SIZE:
                    self._entries.popitem(last=False)
            found = {}
            for image in images:
                entry = self._entries.get(id(image))
                if entry is None:  # evicted between the two locks: compute again
                    entry = (image, self._compute([image])[0])
                found[id(image)] = entry[1]
            return [found[id(image)] for image in images]


class LiteVision:
    """COCO objects (CenterNet + NanoDet, fused), BlazeFace faces, selfie person masks and RapidOCR text, batched and cached."""

    def __init__(self, device: str = "cpu"):
        from loupe.tools.lite.faces import FaceDetector
        from loupe.tools.lite.fusion import FusedDetector
        from loupe.tools.lite.ocr import TextReader
        from loupe.tools.lite.person_seg import PersonSegmenter

        self.device = device
        self.detector = FusedDetector(device)
        self.face_detector = FaceDetector(device)
        self.segmenter = PersonSegmenter(device)
        self.reader = TextReader(device)
        self.objects = _PerImageCache(self.detector.detect)
        self.faces = _PerImageCache(self._faces)
        self.person_probability = _PerImageCache(self.segmenter.segment)
        self.text = _PerImageCache(self.reader.read)

    def _faces(self, images: list[Image]) -> list:
        """BlazeFace's faces checked against the detector's people (``faces.faces_on_people``)."""
        from loupe.tools.lite.faces import WEAK_FACE, faces_on_people

        found = self.face_detector.detect(images, min_score=WEAK_FACE)
        return [faces_on_people(f, o) for f, o in zip(found, self.objects(images))]

    def person_masks(self, images: Sequence[Image]) -> list[np.ndarray]:
        """Boolean ``[H, W]`` foreground-person mask per image (probability > 0.5)."""
        return [p > 0.5 for p in self.person_probability(images)]


def lite_vision(context) -> LiteVision:
    """The one LiteVision of a tool context."""
    from loupe.tools.devices import pick_device

    return context.shared("lite-vision", lambda: LiteVision(pick_device(context.settings.device)))
