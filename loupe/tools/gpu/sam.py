"""SEG with segment-anything: boxes from the context's LOC backend, one mask per box from SAM.

Embed once, prompt many times: :class:`SamMasker` runs the heavy image encoder once per image
(``SamPredictor.set_image``) and then decodes every box prompt against that embedding in one batched
call (``predict_torch``). ``SamMasker.masks(image, objects)`` is the library API other tools can use.

Options: ``sam.model`` (registry name, default ``vit_b``), ``sam.checkpoint`` (the ``.pth`` file; default
``<cache>/sam/sam_vit_b_01ec64.pth``, ``<cache>`` being ``Settings.cache_root()``), ``sam.object`` (what SEG asks LOC for, default ``object``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from loupe.programs.errors import ToolUnavailable
from loupe.programs.values import Image, Objects
from loupe.tools.gpu.base import GpuBackend, each
from loupe.tools.imageops import check_objects_fit

CHECKPOINTS = {"vit_b": "sam_vit_b_01ec64.pth", "vit_l": "sam_vit_l_0b3195.pth", "vit_h": "sam_vit_h_4b8939.pth"}
URL = "https://dl.fbaipublicfiles.com/segment_anything/"


def default_checkpoint(settings, kind: str = "vit_b") -> Path:
    """Where the SAM checkpoint of ``kind`` is looked for when ``sam.checkpoint`` is not set."""
    return settings.cache_root() / "sam" / CHECKPOINTS.get(kind, f"sam_{kind}.pth")


def checkpoint_path(settings, kind: str) -> Path:
    """The ``.pth`` file of SAM ``kind``: the ``sam.checkpoint`` option, else :func:`default_checkpoint`."""
    return Path(settings.option("sam.checkpoint") or default_checkpoint(settings, kind)).expanduser()


class SamMasker:
    """A loaded SAM with its predictor. ``model`` is the ``Sam`` module (what the manager moves)."""

    def __init__(self, sam, device: str, dtype=None):
        from segment_anything import SamPredictor

        self.model = sam.to(device).eval()  # kept in fp32; on CUDA the forwards run under autocast(dtype)
        self.predictor = SamPredictor(self.model)
        self.device, self.dtype = device, dtype

    def masks(self, image: Image, objects: Objects) -> Objects:
        """``objects`` of ``image`` with a boolean ``[H, W]`` mask each (same size as ``image``).

        Boxes are xyxy pixels of ``image``; SAM resizes the image (longest side 1024 for full models) and
        the boxes with it, and its masks come back at the original H x W.
        """
        import torch

        check_objects_fit(image, objects, "SEG")
        if len(objects) == 0:
            return objects
        cuda = str(self.predictor.device).startswith("cuda") and self.dtype is not None
        with torch.inference_mode(), torch.autocast("cuda", dtype=self.dtype, enabled=cuda):
            self.predictor.set_image(np.asarray(image.pixels))           # the one heavy step
            boxes = torch.as_tensor(objects.boxes, dtype=torch.float32, device=self.predictor.device)
            boxes = self.predictor.transform.apply_boxes_torch(boxes, (image.height, image.width))
            masks, _, _ = self.predictor.predict_torch(None, None, boxes=boxes, multimask_output=False)
        masks = masks[:, 0].cpu().numpy()                                  # [N, H, W] bool
        self.predictor.reset_image()
        return objects.with_items(o.evolve(mask=m) for o, m in zip(objects, masks))


class SamSegmenter(GpuBackend):
    option_name = "sam.model"
    default_model = "vit_b"

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.settings, self.model_id)

    def _build(self, device, dtype):
        from segment_anything import sam_model_registry

        if self.model_id not in sam_model_registry:
            raise ToolUnavailable(f"unknown SAM model {self.model_id!r}; use one of {sorted(sam_model_registry)}")
        if not self.checkpoint.exists():
            raise ToolUnavailable(missing_checkpoint(self.model_id, self.checkpoint))
        return SamMasker(sam_model_registry[self.model_id](checkpoint=str(self.checkpoint)), device, dtype)

    def masker(self):
        """The shared SamMasker, pinned for a ``with`` block."""
        return self.manager.use(("sam", str(self.checkpoint)), self._build)

    def run_batch(self, calls):
        wanted = str(self.option("sam.object", "object"))
        boxes = self.context.backend("LOC").run_batch([{"image": c["image"], "object": wanted} for c in calls])

        def segment(pair):
            call, found = pair
            if isinstance(found, BaseException):
                raise found
            with self.masker() as masker:
                return masker.masks(call["image"], found)

        return each(list(zip(calls, boxes)), segment)


def missing_checkpoint(kind: str, path: Path) -> str:
    name = CHECKPOINTS.get(kind, path.name)
    return (f"the SAM checkpoint {path} is not on this machine; download it on a machine with network "
            f"(`curl -L -o {path} {URL}{name}`) or set LOUPE_SAM_CHECKPOINT to the .pth file")
