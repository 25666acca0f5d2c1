"""ultralytics YOLO / YOLO-World LOC built from model YAMLs with random weights (no download).

YOLO-World's text embeddings come from CLIP weights ultralytics downloads; that one step
(``WorldModel.get_text_pe``) is replaced by random embeddings here. Code paths, not accuracy.
"""

import pytest
import torch

from programs.errors import ToolError
from tools.gpu import yolo
from tools.gpu.yolo import YoloLocator, YoloWorldLocator
import gpu_tiny


def test_affordance_knows_only_coco_classes():
    assert yolo.affordance({"object": "dogs"}) == 1.0
    assert yolo.affordance({"object": "glasses"}) == 0.0
    assert yolo.world_affordance({"object": "glasses"}) == 1.0


def test_yolo_from_yaml_offline_gives_pixel_boxes(wide_image, monkeypatch):
    context = gpu_tiny.context_with(yolo__model="yolo11n.yaml", yolo__threshold=0.0, yolo__imgsz=64)
    backend = YoloLocator(context)
    found, unknown = backend.run_batch([{"image": wide_image, "object": "object"},
                                        {"image": wide_image, "object": "glasses"}])
    assert isinstance(unknown, ToolError) and "owlv2" in str(unknown)
    assert found.image_size == (96, 48)
    if len(found):
        assert (found.boxes[:, 2] <= 96).all() and (found.boxes[:, 3] <= 48).all()
        assert set(found.labels) <= set(yolo.COCO_CLASSES)


def test_missing_pt_weights_name_the_fix(wide_image):
    from programs.errors import ToolUnavailable

    result = YoloLocator(gpu_tiny.context_with(yolo__model="nowhere-yolo.pt")).run_batch(
        [{"image": wide_image, "object": "dog"}])[0]
    assert isinstance(result, ToolUnavailable) and "LOUPE_YOLO_MODEL" in str(result)


def test_yolo_world_sets_the_batch_names_as_classes(wide_image, tall_image, monkeypatch):
    from ultralytics.nn.tasks import WorldModel

    monkeypatch.setattr(WorldModel, "get_text_pe",
                        lambda self, text, **kw: torch.randn(1, len(text), 512))
    context = gpu_tiny.context_with(yolo_world__model="yolov8s-worldv2.yaml", yolo__threshold=0.0, yolo__imgsz=64)
    backend = YoloWorldLocator(context)
    glasses, hat = backend.run_batch([{"image": wide_image, "object": "glasses"},
                                      {"image": tall_image, "object": "hat"}])
    assert glasses.image_size == (96, 48) and hat.image_size == (40, 80)
    assert set(glasses.labels) <= {"glasses"} and set(hat.labels) <= {"hat"}
