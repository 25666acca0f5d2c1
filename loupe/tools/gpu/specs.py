"""The GPU-tier backends of the model tools, registered through ``loupe.tools.builtin`` like the lite tier.

**How ``auto`` chooses (the rule).** GPU-tier specs have a higher ``priority`` than lite (0), so they win
``auto`` — but only when their ``ready`` check passes, and it passes only when BOTH hold:

1. the weights are on this machine (HF cache looked up without network, a local folder, or the
   ultralytics/SAM file), so ``auto`` never starts a download; and
2. a GPU (CUDA or MPS) is usable — or you asked for the GPU tier anyway: ``Settings.gpu_tier="on"``
   (``LOUPE_GPU_TIER=on``), or this backend chosen in ``Settings.backends`` (``LOUPE_BACKEND_<TOOL>``,
   e.g. ``LOUPE_BACKEND_LOC=owlv2`` runs OWLv2 on CPU).

Readiness reads only the settings it is given (``ready(settings, spec)``). Otherwise ``ready`` raises
ToolUnavailable saying why (WeightsMissing when the weights are absent), and ``auto`` falls back to the
lite tier. ``LOUPE_GPU_TIER=off`` never picks the GPU tier automatically. A multimodal model behind an
OpenAI-compatible server (VQA and CAPTION) is not a GPU backend: ``loupe.tools.vlm``, chosen by ``--vlm``.

Importing this module loads nothing heavy (no torch, no transformers).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from loupe.programs.errors import ToolUnavailable
from loupe.tools.backends import BackendSpec, WeightsMissing
from loupe.tools.devices import gpu_present
from loupe.tools.settings import env_name
from loupe.tools.weights import missing_weights, weights_present
from loupe.tools.install import pip_extra

INSTALL_HINT = pip_extra("gpu")
HF = ("torch", "transformers")
READY = "loupe.tools.gpu.specs:"


@lru_cache(maxsize=1)
def _gpu() -> bool:
    return gpu_present()


def gate(settings, spec: BackendSpec) -> None:
    """The rule above, once the weights are present: a GPU, or an explicit choice; else ToolUnavailable."""
    tier = settings.gpu_tier
    if settings.backend_for(spec.tool) == spec.name or tier == "on" or (tier != "off" and _gpu()):
        return
    why = "LOUPE_GPU_TIER=off" if tier == "off" else "no GPU here"
    raise ToolUnavailable(f"{why}; the lite tier runs instead (choose it with "
                          f"LOUPE_BACKEND_{spec.tool}={spec.name} or LOUPE_GPU_TIER=on)")


def model_of(settings, spec: BackendSpec) -> str:
    """The weights ``spec`` would load: its ``model_option`` in the settings, else its ``default_model``."""
    return str(settings.option(spec.model_option, spec.default_model))


def hub_ready(settings, spec: BackendSpec) -> None:
    """A transformers/diffusers backend: weights in the HF cache or a local folder, then :func:`gate`."""
    model_id = model_of(settings, spec)
    if not (weights_present(model_id) or weights_present(model_id, "model_index.json")):
        raise WeightsMissing(missing_weights(settings, model_id, spec.model_option))
    gate(settings, spec)


def yolo_ready(settings, spec: BackendSpec) -> None:
    """An ultralytics backend: the ``.pt`` file as given or in ultralytics' weights folder, then :func:`gate`."""
    from loupe.tools.gpu.yolo import weights_dir, weights_file

    model = model_of(settings, spec)
    if weights_file(settings, model) is None:
        raise WeightsMissing(f"the ultralytics weights {model!r} are not in {weights_dir(settings)}; fetch them on "
                             f"a machine with network (`yolo predict model={model}`) or set "
                             f"{env_name(spec.model_option)}")
    gate(settings, spec)


def sam_ready(settings, spec: BackendSpec) -> None:
    """segment-anything: the checkpoint file (``sam.checkpoint``, else in the cache), then :func:`gate`."""
    from loupe.tools.gpu.sam import checkpoint_path, missing_checkpoint

    kind = model_of(settings, spec)
    path = checkpoint_path(settings, kind)
    if not Path(path).exists():
        raise WeightsMissing(missing_checkpoint(kind, path))
    gate(settings, spec)


# (tool, name, module:Class, requires, ready, model option, default model, affordance, priority, memory)
_TABLE = [
    ("LOC", "owlv2", "owlv2:Owlv2Locator", HF, "hub_ready", "owlv2.model", "google/owlv2-base-patch16-ensemble",
     "owlv2:affordance", 30, "~0.6 GB fp16"),
    ("LOC", "grounding-dino", "grounding_dino:GroundingDinoLocator", HF, "hub_ready", "grounding_dino.model",
     "IDEA-Research/grounding-dino-tiny", "grounding_dino:affordance", 26, "~0.7 GB fp16"),
    ("LOC", "yolo-world", "yolo:YoloWorldLocator", ("torch", "ultralytics"), "yolo_ready", "yolo_world.model",
     "yolov8s-worldv2.pt", "yolo:world_affordance", 24, "~0.1 GB"),
    ("LOC", "yolo", "yolo:YoloLocator", ("torch", "ultralytics"), "yolo_ready", "yolo.model", "yolo11n.pt",
     "yolo:affordance", 22, "~0.01 GB"),
    ("SEG", "panoptic", "panoptic:PanopticSegmenter", HF, "hub_ready", "panoptic.model",
     "facebook/mask2former-swin-tiny-coco-panoptic", "", 25, "~0.1 GB fp16"),
    ("SEG", "sam", "sam:SamSegmenter", ("torch", "segment_anything"), "sam_ready", "sam.model", "vit_b", "", 20,
     "~0.4 GB (ViT-B)"),
    ("VQA", "blip", "blip:BlipVqa", HF, "hub_ready", "blip_vqa.model", "Salesforce/blip-vqa-base", "", 20,
     "~0.8 GB fp16"),
    ("CAPTION", "blip", "blip:BlipCaptioner", HF, "hub_ready", "blip_caption.model",
     "Salesforce/blip-image-captioning-base", "", 20, "~0.5 GB fp16"),
    ("SELECT", "clip", "clip:ClipSelector", HF, "hub_ready", "clip.model", "openai/clip-vit-base-patch32",
     "clip:affordance", 20, "~0.3 GB fp16, shared with CLASSIFY"),
    ("CLASSIFY", "clip", "clip:ClipClassifier", HF, "hub_ready", "clip.model", "openai/clip-vit-base-patch32",
     "clip:affordance", 20, "~0.3 GB fp16, shared with SELECT"),
    ("REPLACE", "sd-inpaint", "inpaint:SdInpainter", HF + ("diffusers",), "hub_ready", "inpaint.model",
     "stable-diffusion-v1-5/stable-diffusion-inpainting", "inpaint:affordance", 20, "~2.2 GB fp16"),
]

SPECS: list[BackendSpec] = [
    BackendSpec(tool=tool, name=name, factory=f"loupe.tools.gpu.{factory}", requires=requires, install_hint=INSTALL_HINT,
                ready=READY + ready,
                affordance=f"loupe.tools.gpu.{affordance}" if affordance else "", priority=priority,
                gpu_recommended=True, model_option=option, default_model=default, memory=memory)
    for tool, name, factory, requires, ready, option, default, affordance, priority, memory in _TABLE]
