"""The "lite" backends of the model tools: CPU-friendly, offline, built on the lite model pack.

Each spec names its factory and cheap affordance judge as ``"module:attribute"`` paths, so importing
this module loads nothing heavy. Tools that run the TF.js models need torch and the pulled pack
(``ready``); those that read text also need RapidOCR; SELECT, CLASSIFY and REPLACE load no weights.
"""

from __future__ import annotations

from loupe.tools.backends import BackendSpec
from loupe.tools.install import pip_extra

INSTALL_HINT = f"{pip_extra('lite')} && loupe models pull"
READY = "loupe.tools.lite.pack:ready"
MODELS = ("torch",)
OCR = ("rapidocr", "onnxruntime")


def _spec(tool: str, module: str, factory: str, requires: tuple[str, ...], ready: str = READY,
          affordance: bool = False) -> BackendSpec:
    path = f"loupe.tools.lite.backends.{module}"
    return BackendSpec(tool=tool, name="lite", factory=f"{path}:{factory}", requires=requires,
                       install_hint=INSTALL_HINT, ready=ready,
                       affordance=f"{path}:affordance" if affordance else "")


SPECS: list[BackendSpec] = [
    _spec("LOC", "loc", "LiteLocator", MODELS, affordance=True),
    _spec("FACEDET", "facedet", "LiteFaceDetector", MODELS),
    _spec("SEG", "seg", "LiteSegmenter", MODELS),
    _spec("OCR", "ocr", "LiteReader", MODELS + OCR, ready=""),  # RapidOCR ships its own models
    _spec("SELECT", "select", "LiteSelector", MODELS + ("cv2",), ready="", affordance=True),
    _spec("CLASSIFY", "classify", "LiteClassifier", MODELS + ("cv2",), ready="", affordance=True),
    _spec("VQA", "vqa", "LiteVqa", MODELS + OCR, affordance=True),
    _spec("CAPTION", "caption", "LiteCaptioner", MODELS),
    _spec("REPLACE", "replace", "LiteReplacer", ("cv2",), ready="", affordance=True),
]
