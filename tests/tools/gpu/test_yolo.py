"""ultralytics YOLO / YOLO-World LOC built from model YAMLs with random weights (no download).

YOLO-World's text embeddings come from CLIP weights ultralytics downloads; that one step
(``WorldModel.get_text_pe``) is replaced by random embeddings here. The heads are then decided (as
test_owlv2.py zeroes OWLv2's box head): a zero box regression makes every anchor's box the same uniform
DFL spread, wider than these small images, so boxes clip to the whole image and NMS keeps one; fixed class
logits make that box's class known. Code paths and coordinates, not accuracy.
"""

import pytest
import torch

from loupe.programs.errors import ToolError
from loupe.tools.gpu import yolo
from loupe.tools.gpu.yolo import YoloLocator, YoloWorldLocator
import gpu_tiny

DOG = 16  # COCO class index


def decided(locator_class, monkeypatch, class_logits):
    """Patch ``locator_class._build`` so the built model's head gives known boxes and classes."""
    original = locator_class._build

    def build(self, device, dtype):
        model = original(self, device, dtype)
        head = model.model.model[-1]
        with torch.no_grad():
            for branch in head.cv2:  # box regression: all-zero DFL logits
                branch[-1].weight.zero_()
                branch[-1].bias.zero_()
            class_logits(head)
        return model

    monkeypatch.setattr(locator_class, "_build", build)


def only_dogs(head):
    for branch in head.cv3:
        branch[-1].weight.zero_()
        branch[-1].bias.fill_(-10.0)
        branch[-1].bias[DOG] = 10.0


def every_class_sure(head):
    for contrastive in head.cv4:  # score = similarity x exp(logit_scale) + bias: ~0 + 10
        contrastive.logit_scale.fill_(-30.0)
        contrastive.bias.fill_(10.0)


def test_affordance_knows_only_coco_classes():
    assert yolo.affordance({"object": "dogs"}) == 1.0
    assert yolo.affordance({"object": "glasses"}) == 0.0
    assert yolo.world_affordance({"object": "glasses"}) == 1.0


def test_yolo_from_yaml_offline_gives_pixel_boxes(wide_image, monkeypatch):
    decided(YoloLocator, monkeypatch, only_dogs)
    context = gpu_tiny.context_with(yolo__model="yolo11n.yaml", yolo__threshold=0.5, yolo__imgsz=64)
    backend = YoloLocator(context)
    everything, dogs, cats, unknown = backend.run_batch([
        {"image": wide_image, "object": "object"}, {"image": wide_image, "object": "dogs"},
        {"image": wide_image, "object": "cat"}, {"image": wide_image, "object": "glasses"}])
    assert isinstance(unknown, ToolError) and "owlv2" in str(unknown)
    for found in (everything, dogs):
        assert found.image_size == (96, 48)
        assert found.boxes.tolist() == [[0.0, 0.0, 96.0, 48.0]] and found.labels == ("dog",)
    assert len(cats) == 0 and cats.image_size == (96, 48)


def test_missing_pt_weights_name_the_fix(wide_image):
    from loupe.programs.errors import ToolUnavailable

    result = YoloLocator(gpu_tiny.context_with(yolo__model="nowhere-yolo.pt")).run_batch(
        [{"image": wide_image, "object": "dog"}])[0]
    assert isinstance(result, ToolUnavailable) and "LOUPE_YOLO_MODEL" in str(result)


def test_yolo_world_sets_the_batch_names_as_classes(wide_image, tall_image, monkeypatch):
    from ultralytics.nn.tasks import WorldModel

    monkeypatch.setattr(WorldModel, "get_text_pe",
                        lambda self, text, **kw: torch.randn(1, len(text), 512))
    decided(YoloWorldLocator, monkeypatch, every_class_sure)
    context = gpu_tiny.context_with(yolo_world__model="yolov8s-worldv2.yaml", yolo__threshold=0.5, yolo__imgsz=64)
    backend = YoloWorldLocator(context)
    glasses, hat = backend.run_batch([{"image": wide_image, "object": "glasses"},
                                      {"image": tall_image, "object": "hat"}])
    assert glasses.image_size == (96, 48) and hat.image_size == (40, 80)
    assert glasses.boxes.tolist() == [[0.0, 0.0, 96.0, 48.0]] and glasses.labels == ("glasses",)
    # every class ties, so each box takes the batch's first class, 'glasses': the 'hat' call keeps none of them
    assert len(hat) == 0
    alone = backend.run_batch([{"image": tall_image, "object": "hat"}])[0]
    assert alone.boxes.tolist() == [[0.0, 0.0, 40.0, 80.0]] and alone.labels == ("hat",)
