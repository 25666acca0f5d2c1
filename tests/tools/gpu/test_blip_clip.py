"""BLIP VQA/captioning and CLIP SELECT/CLASSIFY (plain and by description) on tiny random models.
Code paths (loading, padded batches, one answer per call), not accuracy."""

import numpy as np
import pytest

from loupe.programs.values import Obj, Objects
from loupe.tools.gpu.blip import BlipCaptioner, BlipVqa
from loupe.tools.gpu.clip import ClipClassifier, ClipSelector, LLM_KEY, parse_descriptors
import gpu_tiny


def test_blip_vqa_answers_a_padded_batch(tmp_path, wide_image, tall_image):
    backend = BlipVqa(gpu_tiny.context_with(blip_vqa__model=str(gpu_tiny.save_blip(tmp_path, "vqa")),
                                            blip__max_new_tokens=3))
    answers = backend.run_batch([{"image": wide_image, "question": "what color is the dog?"},
                                 {"image": tall_image, "question": "is it red"},
                                 {"image": tall_image, "question": ""}])
    assert all(isinstance(a, str) for a in answers[:2])
    assert isinstance(answers[2], Exception) and "question" in str(answers[2])


def test_blip_caption_gives_one_string_per_image(tmp_path, wide_image, tall_image):
    backend = BlipCaptioner(gpu_tiny.context_with(blip_caption__model=str(gpu_tiny.save_blip(tmp_path, "caption")),
                                                  blip__max_new_tokens=3))
    captions = backend.run_batch([{"image": wide_image}, {"image": tall_image}])
    assert len(captions) == 2 and all(isinstance(c, str) for c in captions)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return gpu_tiny.save_clip(tmp_path_factory.mktemp("clip"))


def objects_of(image):
    return Objects((Obj((50, 8, 90, 40), "a"), Obj((0, 0, 30, 20), "b"), Obj((10, 10, 40, 40), "c")), image.size)


def test_clip_select_keeps_one_object_per_query(clip_dir, wide_image):
    backend = ClipSelector(gpu_tiny.context_with(clip__model=str(clip_dir)))
    one, two, empty = backend.run_batch([
        {"image": wide_image, "object": objects_of(wide_image), "query": "dog", "category": None},
        {"image": wide_image, "object": objects_of(wide_image), "query": "dog,cat", "category": "animal"},
        {"image": wide_image, "object": Objects.empty(wide_image.size), "query": "dog", "category": None}])
    assert len(one) == 1 and one[0].label in "abc" and 1 <= len(two) <= 2 and len(empty) == 0


def test_clip_classify_labels_one_object_per_category(clip_dir, wide_image, tall_image):
    backend = ClipClassifier(gpu_tiny.context_with(clip__model=str(clip_dir)))
    found, wrong = backend.run_batch([
        {"image": wide_image, "object": objects_of(wide_image), "categories": ["cat", "dog"]},
        {"image": tall_image, "object": objects_of(wide_image), "categories": ["cat"]}])
    assert sorted(o.category for o in found) == ["cat", "dog"]
    assert isinstance(wrong, Exception) and "found in a 96x48 image" in str(wrong)


class ListingLLM:
    """A fake LLM that lists visual features; records prompts."""

    def __init__(self):
        self.prompts = []

    def complete(self, prompt, system="", **kw):
        self.prompts.append(prompt)
        return type("C", (), {"text": " four legs\n- a wet nose\n- fur\n"})()


def test_classification_by_description_asks_the_llm_once_per_name(clip_dir, wide_image):
    context = gpu_tiny.context_with(clip__model=str(clip_dir))
    llm = ListingLLM()
    context.provide(LLM_KEY, llm)
    backend = ClipClassifier(context)
    for _ in range(2):
        found = backend.run(image=wide_image, object=objects_of(wide_image), categories=["describe:dog", "cat"])
        assert sorted(o.category for o in found) == ["cat", "dog"]
    assert len(llm.prompts) == 1 and "distinguishing a dog" in llm.prompts[0]


def test_description_mode_without_llm_says_what_to_do(clip_dir, wide_image):
    backend = ClipClassifier(gpu_tiny.context_with(clip__model=str(clip_dir), clip__descriptors="true"))
    with pytest.raises(Exception, match="needs a language model"):
        backend.run(image=wide_image, object=objects_of(wide_image), categories=["dog", "cat"])


def test_parse_descriptors():
    assert parse_descriptors(" four legs\n- a tail.\n1. fur\n- a tail") == ["four legs", "a tail", "fur"]
