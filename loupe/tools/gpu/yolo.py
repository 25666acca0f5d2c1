"""LOC with ultralytics: YOLO (COCO's 80 classes, default ``yolo11n.pt``) and YOLO-World (open vocabulary,
default ``yolov8s-worldv2.pt``). Ultralytics letterboxes each image and maps boxes back to its pixels.

Options: ``yolo.model`` / ``yolo_world.model`` (a ``.pt`` file name, path, or a ``.yaml`` architecture),
``yolo.threshold`` (0.25), ``yolo.imgsz`` (640), ``yolo.batch`` (16). YOLO answers only its own class
names (COCO synonyms and plurals are mapped as on the lite tier); YOLO-World takes any name, but its
text embeddings need the CLIP weights ultralytics fetches on first ``set_classes``.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
import threading

from loupe.programs.errors import ToolError
from loupe.tools.coco import COCO_CLASSES
from loupe.tools.gpu.detections import from_ultralytics
from loupe.tools.gpu.locate import Locator
from loupe.tools.vocabulary import coco_class, group_classes, means_all


def affordance(args) -> float:
    """YOLO knows COCO's 80 classes only: 1 for them (and 'object'), 0 for other names, 0.5 if unknown."""
    name = args.get("object")
    if not isinstance(name, str):
        return 0.5
    return 1.0 if (means_all(name) or coco_class(name) or group_classes(name)) else 0.0


def world_affordance(args) -> float:
    """YOLO-World accepts any object name."""
    return 1.0


def settings_file(settings) -> Path:
    """Where ultralytics keeps its settings (``settings.json``), found as ultralytics finds it, without
    importing ultralytics: importing it creates the file on first use and prints that on stdout.
    ``settings``: Loupe's (``yolo_config_dir``, ``xdg_config_home`` are the variables ultralytics reads)."""
    if settings.yolo_config_dir:
        root = Path(settings.yolo_config_dir).expanduser()
    elif sys.platform == "win32":
        root = Path.home() / "AppData" / "Roaming"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Application Support"
    else:
        root = Path(settings.xdg_config_home or Path.home() / ".config")
    return root / "Ultralytics" / "settings.json"


def weights_dir(settings) -> Path:
    """The ultralytics weights folder: ``weights_dir`` of its settings file, else its default (``weights``,
    relative to the working folder). Reads the file; imports nothing."""
    try:
        return Path(json.loads(settings_file(settings).read_text(encoding="utf-8"))["weights_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return Path("weights")


def weights_file(settings, name: str) -> Path | None:
    """Where the ultralytics weights ``name`` are on this machine (as given, or the weights folder)."""
    for candidate in (Path(name).expanduser(), weights_dir(settings) / name):
        if candidate.exists():
            return candidate
    return None


class YoloLocator(Locator):
    option_name = "yolo.model"
    default_model = "yolo11n.pt"
    batch_option = "yolo.batch"

    def knows(self, name):
        return bool(means_all(name) or coco_class(name) or group_classes(name))

    def unknown(self, name):
        return ToolError(f"{name!r} is not one of YOLO's 80 COCO classes (person, car, dog, cup, ...); "
                         "for other names use LOUPE_BACKEND_LOC=owlv2 or yolo-world")

    def _build(self, device, dtype):
        from ultralytics import YOLO

        path = weights_file(self.settings, self.model_id)
        if path is None and not self.model_id.endswith(".yaml"):
            from loupe.programs.errors import ToolUnavailable

            raise ToolUnavailable(f"the YOLO weights {self.model_id!r} are not on this machine; download them "
                                  f"on a machine with network (`yolo predict model={self.model_id}` saves them) "
                                  f"into {weights_dir(self.settings)}, or set LOUPE_YOLO_MODEL to a .pt path")
        model = YOLO(str(path or self.model_id))
        model.to(device)
        return model

    def class_names(self, model) -> list[str]:
        names = model.names
        names = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
        if all(str(n).isdigit() for n in names) and len(names) == len(COCO_CLASSES):  # built from a .yaml
            return list(COCO_CLASSES)
        return [str(n) for n in names]

    def _predict(self, model, calls):
        import numpy as np

        device = next(model.model.parameters()).device
        return model.predict([np.ascontiguousarray(c["image"].pixels[:, :, ::-1]) for c in calls],  # BGR
                             conf=float(self.option("yolo.threshold", 0.25)),
                             imgsz=int(self.option("yolo.imgsz", 640)), device=str(device), verbose=False,
                             half=device.type == "cuda" and str(self.manager.dtype) != "torch.float32")

    def _detect(self, calls):
        with self.model("yolo", self._build) as model:
            names = self.class_names(model)
            results = self._predict(model, calls)
        found = []
        for result, call in zip(results, calls):
            objects = from_ultralytics(result, call["image"], names)
            name = call["object"]
            found.append(objects if means_all(name) else objects.filter(
                lambda o, c=group_classes(name) or (coco_class(name),): o.label in c))
        return found


class YoloWorldLocator(YoloLocator):
    option_name = "yolo_world.model"
    default_model = "yolov8s-worldv2.pt"

    def __init__(self, context):
        super().__init__(context)
        self._classes_lock = threading.Lock()  # set_classes changes the shared model

    def knows(self, name):
        return True

    def _detect(self, calls):
        """One forward per distinct name set: the model's classes are the names of the chunk."""
        names = sorted({c["object"] for c in calls})
        with self._classes_lock, self.model("yolo_world", self._build) as model:
            if getattr(model, "_loupe_classes", None) != names:
                model.set_classes(names)
                model._loupe_classes = names
            results = self._predict(model, calls)
        return [from_ultralytics(r, c["image"], names).filter(lambda o, n=c["object"]: o.label == n)
                for r, c in zip(results, calls)]
