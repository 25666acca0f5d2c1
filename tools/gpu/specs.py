"""The GPU-tier backends of the model tools, registered through ``tools.builtin`` like the lite tier.

**How ``auto`` chooses (the rule).** GPU-tier specs have a higher ``priority`` than lite (0), so they win
``auto`` — but only when their ``ready`` check passes, and it passes only when BOTH hold:

1. the weights are on this machine (HF cache looked up without network, a local folder, or the
   ultralytics/SAM file), so ``auto`` never starts a download; and
2. a GPU (CUDA or MPS) is usable — or you asked for the GPU tier anyway: ``LOUPE_GPU_TIER=on``, or this
   backend named in ``LOUPE_BACKEND_<TOOL>`` (e.g. ``LOUPE_BACKEND_LOC=owlv2`` runs OWLv2 on CPU).

Otherwise ``ready`` says why, and ``auto`` falls back to the lite tier. ``LOUPE_GPU_TIER=off`` never
picks the GPU tier automatically. The multimodal-LLM VQA (``vlm``) has priority -5: it sends images to a
server, so it runs only when chosen (``LOUPE_BACKEND_VQA=vlm``).

Importing this module loads nothing heavy (no torch, no transformers).
"""

from __future__ import annotations

from functools import lru_cache
import os

from tools.backends import BackendSpec
from tools.models import gpu_present, missing_weights, weights_present

INSTALL_HINT = "pip install 'loupe[gpu]'"
HF = ("torch", "transformers")


@lru_cache(maxsize=1)
def _gpu() -> bool:
    return gpu_present()


def _wanted(tool: str, name: str) -> bool:
    return os.environ.get(f"LOUPE_BACKEND_{tool}", "") == name


def gate(tool: str, name: str, present: bool, missing: str) -> tuple[bool, str]:
    """The rule above: weights present, and a GPU or an explicit choice."""
    if not present:
        return False, missing
    tier = os.environ.get("LOUPE_GPU_TIER", "auto").lower()
    if _wanted(tool, name) or tier == "on" or (tier != "off" and _gpu()):
        return True, ""
    why = "LOUPE_GPU_TIER=off" if tier == "off" else "no GPU here"
    return False, f"{why}; the lite tier runs instead (choose it with LOUPE_BACKEND_{tool}={name} or LOUPE_GPU_TIER=on)"


def hub_ready(tool: str, name: str, option_name: str, default: str):
    """A ``ready`` for a transformers/diffusers backend whose model id is ``LOUPE_<OPTION>`` or ``default``."""
    def ready() -> tuple[bool, str]:
        model_id = os.environ.get("LOUPE_" + option_name.upper().replace(".", "_"), default)
        return gate(tool, name, weights_present(model_id) or weights_present(model_id, "model_index.json"),
                    missing_weights(model_id, option_name))
    return ready


def yolo_ready(tool, name, option_name, default):
    def ready():
        from tools.gpu.yolo import weights_dir, weights_file

        model = os.environ.get("LOUPE_" + option_name.upper().replace(".", "_"), default)
        return gate(tool, name, weights_file(model) is not None,
                    f"the ultralytics weights {model!r} are not in {weights_dir()}; fetch them on a machine with "
                    f"network (`yolo predict model={model}`) or set LOUPE_{option_name.upper().replace('.', '_')}")
    return ready


def sam_ready():
    from tools.gpu.sam import default_checkpoint, missing_checkpoint

    kind = os.environ.get("LOUPE_SAM_MODEL", "vit_b")
    path = os.path.expanduser(os.environ.get("LOUPE_SAM_CHECKPOINT", "") or str(default_checkpoint(kind)))
    from pathlib import Path

    return gate("SEG", "sam", os.path.exists(path), missing_checkpoint(kind, Path(path)))


# (tool, name, module:Class, requires, ready, affordance, priority, memory note)
_TABLE = [
    ("LOC", "owlv2", "owlv2:Owlv2Locator", HF, hub_ready("LOC", "owlv2", "owlv2.model",
     "google/owlv2-base-patch16-ensemble"), "owlv2:affordance", 30, "~0.6 GB fp16"),
    ("LOC", "grounding-dino", "grounding_dino:GroundingDinoLocator", HF, hub_ready(
        "LOC", "grounding-dino", "grounding_dino.model", "IDEA-Research/grounding-dino-tiny"),
     "grounding_dino:affordance", 26, "~0.7 GB fp16"),
    ("LOC", "yolo-world", "yolo:YoloWorldLocator", ("torch", "ultralytics"), yolo_ready(
        "LOC", "yolo-world", "yolo_world.model", "yolov8s-worldv2.pt"), "yolo:world_affordance", 24, "~0.1 GB"),
    ("LOC", "yolo", "yolo:YoloLocator", ("torch", "ultralytics"), yolo_ready("LOC", "yolo", "yolo.model",
     "yolo11n.pt"), "yolo:affordance", 22, "~0.01 GB"),
    ("SEG", "panoptic", "panoptic:PanopticSegmenter", HF, hub_ready("SEG", "panoptic", "panoptic.model",
     "facebook/mask2former-swin-tiny-coco-panoptic"), "", 25, "~0.1 GB fp16"),
    ("SEG", "sam", "sam:SamSegmenter", ("torch", "segment_anything"), sam_ready, "", 20, "~0.4 GB (ViT-B)"),
    ("VQA", "blip", "blip:BlipVqa", HF, hub_ready("VQA", "blip", "blip_vqa.model", "Salesforce/blip-vqa-base"),
     "", 20, "~0.8 GB fp16"),
    ("VQA", "vlm", "vlm:VlmVqa", ("openai",), None, "", -5, "remote"),
    ("CAPTION", "blip", "blip:BlipCaptioner", HF, hub_ready("CAPTION", "blip", "blip_caption.model",
     "Salesforce/blip-image-captioning-base"), "", 20, "~0.5 GB fp16"),
    ("SELECT", "clip", "clip:ClipSelector", HF, hub_ready("SELECT", "clip", "clip.model",
     "openai/clip-vit-base-patch32"), "clip:affordance", 20, "~0.3 GB fp16, shared with CLASSIFY"),
    ("CLASSIFY", "clip", "clip:ClipClassifier", HF, hub_ready("CLASSIFY", "clip", "clip.model",
     "openai/clip-vit-base-patch32"), "clip:affordance", 20, "~0.3 GB fp16, shared with SELECT"),
    ("REPLACE", "sd-inpaint", "inpaint:SdInpainter", HF + ("diffusers",), hub_ready(
        "REPLACE", "sd-inpaint", "inpaint.model", "stable-diffusion-v1-5/stable-diffusion-inpainting"),
     "inpaint:affordance", 20, "~2.2 GB fp16"),
]

MEMORY: dict[tuple[str, str], str] = {}
SPECS: list[BackendSpec] = []
for _tool, _name, _factory, _requires, _ready, _affordance, _priority, _memory in _TABLE:
    _attr = "ready_" + f"{_tool}_{_name}".lower().replace("-", "_")
    if _ready is not None:
        globals()[_attr] = _ready
    SPECS.append(BackendSpec(
        tool=_tool, name=_name, factory=f"tools.gpu.{_factory}", requires=_requires, install_hint=INSTALL_HINT,
        ready=f"tools.gpu.specs:{_attr}" if _ready is not None else "tools.gpu.vlm:ready",
        affordance=f"tools.gpu.{_affordance}" if _affordance else "", priority=_priority,
        gpu_recommended=_name != "vlm"))
    MEMORY[(_tool, _name)] = _memory
