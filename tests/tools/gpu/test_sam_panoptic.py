"""SEG: segment-anything box prompts (embed once, many boxes) and Mask2Former panoptic, on tiny random
models. Checks mask alignment (mask shape == image H x W) and coordinates, not accuracy."""

import numpy as np
import pytest

from loupe.programs.values import Obj, Objects
from loupe.tools.gpu.panoptic import PanopticSegmenter
from loupe.tools.gpu.sam import SamMasker, SamSegmenter
import gpu_tiny


@pytest.fixture
def tiny_sam(tmp_path, monkeypatch):
    from segment_anything import sam_model_registry

    checkpoint = tmp_path / "tiny_sam.pth"
    monkeypatch.setitem(sam_model_registry, "tiny", gpu_tiny.save_sam(checkpoint))
    return checkpoint


def test_sam_embeds_once_and_gives_one_aligned_mask_per_box(tiny_sam, wide_image, monkeypatch):
    from segment_anything import sam_model_registry

    masker = SamMasker(sam_model_registry["tiny"](checkpoint=str(tiny_sam)), "cpu")
    calls = []
    original = masker.predictor.set_image
    monkeypatch.setattr(masker.predictor, "set_image", lambda *a, **k: (calls.append(1), original(*a, **k)))
    objects = Objects((Obj((50, 8, 90, 40), "box"), Obj((0, 0, 20, 20), "corner"), Obj((10, 5, 30, 45), "c")),
                      wide_image.size)
    found = masker.masks(wide_image, objects)
    assert len(calls) == 1                                   # one heavy embedding for three prompts
    assert [o.label for o in found] == ["box", "corner", "c"] and found.boxes.tolist() == objects.boxes.tolist()
    assert all(o.mask.shape == (48, 96) and o.mask.dtype == bool for o in found)


def test_sam_seg_asks_loc_for_boxes(tiny_sam, wide_image):
    from loupe.tools.backends import BackendSpec

    context = gpu_tiny.context_with(sam__model="tiny", sam__checkpoint=str(tiny_sam))
    context.add_backend(BackendSpec("LOC", "stub", "test_sam_panoptic:StubLoc"))
    (found,) = SamSegmenter(context).run_batch([{"image": wide_image}])
    assert [o.label for o in found] == ["thing"] and found[0].mask.shape == (48, 96)


class StubLoc:
    """A LOC backend that finds one fixed box (SEG-by-SAM takes its boxes from the context's LOC)."""

    def __init__(self, context):
        pass

    def run_batch(self, calls):
        return [Objects((Obj((50, 8, 90, 40), "thing"),), c["image"].size) for c in calls]


def test_sam_missing_checkpoint_says_where_to_get_it(tmp_path, wide_image):
    backend = SamSegmenter(gpu_tiny.context_with(sam__checkpoint=str(tmp_path / "none.pth")))
    with pytest.raises(Exception, match="dl.fbaipublicfiles.com"):
        backend._build("cpu", None)


def test_panoptic_masks_match_the_image_and_labels_come_from_config(tmp_path, wide_image, tall_image):
    folder = gpu_tiny.save_mask2former(tmp_path, every_query="dog")  # random masks, every query sure of 'dog'
    backend = PanopticSegmenter(gpu_tiny.context_with(panoptic__model=str(folder), panoptic__threshold=0.0,
                                                        panoptic__overlap=0.0))
    wide, tall = backend.run_batch([{"image": wide_image}, {"image": tall_image}])
    for found, image in ((wide, wide_image), (tall, tall_image)):
        assert isinstance(found, Objects) and found.image_size == image.size and len(found) >= 1
        assert set(found.labels) == {"dog"}
        cover = np.zeros((image.height, image.width), int)
        for obj in found:
            cover += obj.mask
        assert (cover == 1).all()  # each pixel goes to exactly one segment
        for obj in found:
            assert obj.mask.shape == (image.height, image.width)
            ys, xs = np.nonzero(obj.mask)
            assert obj.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_from_panoptic_turns_a_segment_map_into_aligned_objects(wide_image):
    from loupe.tools.gpu.panoptic import from_panoptic

    segmentation = np.zeros((48, 96), dtype=np.int32)
    segmentation[8:40, 50:90] = 1
    segmentation[:, :10] = 2
    found = from_panoptic(segmentation, [{"id": 1, "label_id": 1, "score": 0.9},
                                         {"id": 2, "label_id": 2, "score": 0.5},
                                         {"id": 3, "label_id": 0, "score": 0.4}],   # empty: dropped
                          {0: "person", 1: "dog", 2: "sky"}, wide_image)
    assert found.labels == ("dog", "sky")
    assert found.boxes.tolist() == [[50, 8, 90, 40], [0, 0, 10, 48]]
    assert found[0].mask.shape == (48, 96) and found[0].mask.sum() == 32 * 40
