"""The lite COCO detector as LOC uses it: CenterNet (+ tiles of large photos) fused with NanoDet, on the
darknet sample photos (needs the lite pack: `loupe models pull`)."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from loupe.programs.values import Image
from loupe.tools.lite.detector import tile_boxes
from loupe.tools.lite.nanodet import HEADS, decode_nanodet
from loupe.tools.lite.pack import is_pulled
from loupe.tools.settings import Settings

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
needs_pack = pytest.mark.skipif(not is_pulled(), reason="lite model pack not installed; run `loupe models pull`")


def photo(name: str) -> Image:
    from PIL import Image as PILImage

    return Image.from_pil(PILImage.open(PHOTOS / name), name)


@pytest.fixture(scope="module")
def detector():
    """The default: CenterNet with tiles, verified by NanoDet."""
    from loupe.tools.lite.fusion import FusedDetector

    return FusedDetector()


def counts(detector, name, classes):
    """How many objects LOC finds for each of ``classes`` (an object's label or one of its guesses)."""
    from loupe.tools.lite.vocabulary import labelled_as

    found = detector.detect([photo(name)])[0]
    return tuple(sum(labelled_as(o, c) is not None for o in found) for c in classes)


def test_tiles_cover_large_photos_with_overlap_and_skip_small_ones():
    assert tile_boxes(640, 480) == []
    tiles = tile_boxes(773, 512)
    assert tiles == [(0, 0, 512, 512), (261, 0, 773, 512)]
    assert all(b[2] - b[0] == 512 for b in tile_boxes(1024, 768))  # full resolution up to 1024 px
    wide = tile_boxes(2000, 300)
    size = wide[0][2] - wide[0][0]
    assert wide[0][0] == 0 and wide[-1][2] == 2000 and size == 1000  # as 512 px of the photo scaled to 1024
    assert all(b[0] < a[2] - size / 8 for a, b in zip(wide, wide[1:]))  # neighbours overlap by >= 1/8


def test_a_phone_photo_takes_a_few_tiles_not_dozens():
    tiles = tile_boxes(4032, 3024)
    assert len(tiles) == 6
    assert {b[0] for b in tiles} >= {0} and max(b[2] for b in tiles) == 4032 and max(b[3] for b in tiles) == 3024
    assert all(b[2] - b[0] == b[3] - b[1] == 2016 for b in tiles)


def test_nanodet_decoding_puts_a_box_around_its_cell():
    scores = [np.zeros(((416 // s) ** 2, 80)) for s, _, _ in HEADS]
    sides = [np.full(((416 // s) ** 2, 44), -50.0) for s, _, _ in HEADS]
    cell = 10 * 26 + 5  # stride 16: row 10, column 5 -> centre (80, 160)
    scores[1][cell, 17] = 0.9
    sides[1][cell].reshape(4, 11)[:, 2] = 50.0  # every side two strides (32 px) away
    boxes, found, classes, vectors = decode_nanodet(scores, sides, 0.5)
    np.testing.assert_allclose(boxes, [[48, 128, 112, 192]])
    assert found.tolist() == [0.9] and classes.tolist() == [17] and vectors.shape == (1, 80)


@needs_pack
def test_person_photo_has_one_person_one_dog_and_the_horse(detector):
    assert counts(detector, "person.jpg", ("person", "dog", "horse")) == (1, 1, 1)
    labels = Counter(detector.detect([photo("person.jpg")])[0].labels)
    assert labels["horse"] == 1 and labels["sheep"] == 0  # NanoDet's horse outvotes CenterNet's sheep


@needs_pack
@pytest.mark.xfail(strict=True, reason="with the calibrated thresholds (issue 23: CenterNet alone and pairs 0.3) "
                   "the half-hidden brown horse, scored below 0.3, is no longer counted: 3 of 4")
def test_full_size_horses_are_counted(detector):
    image = photo("horses-full.jpg")
    assert image.size == (773, 512)
    assert 4 <= counts(detector, "horses-full.jpg", ("horse",))[0] <= 6  # the whole view alone finds 3


@needs_pack
def test_dog_photo_has_one_dog_and_one_bicycle(detector):
    assert counts(detector, "dog-full.jpg", ("dog", "bicycle")) == (1, 1)


@needs_pack
@pytest.mark.xfail(strict=True, reason="the pickup truck is below the calibrated counting threshold (issue 23)")
def test_dog_photo_has_one_dog_one_bicycle_and_the_pickup_truck(detector):
    assert counts(detector, "dog-full.jpg", ("dog", "bicycle", "truck")) == (1, 1, 1)


def mechanism_options():
    """The thresholds these synthetic cases were written for (before the calibration of issue 23 chose the
    defaults): they exercise the fusion's rules, whatever the operating point."""
    from loupe.tools.lite.fusion import DetectorOptions

    return DetectorOptions(centernet_min_score=0.25, nanodet_min_score=0.5, pair_min_score=0.25,
                           family_guess_min_score=0.15, faint_min_score=0.15)


def settled(*objects):
    """``Settled`` from ``(box, {label: score})`` pairs."""
    from loupe.tools.lite.coco import COCO_CLASSES
    from loupe.tools.lite.fusion import Settled

    scores = np.zeros((len(objects), 80))
    for row, (_, labels) in zip(scores, objects):
        for label, score in labels.items():
            row[COCO_CLASSES.index(label)] = score
    return Settled(np.array([box for box, _ in objects], float).reshape(-1, 4), scores)


def test_a_matched_pair_takes_the_label_both_detectors_support_and_keeps_the_others_as_guesses():
    from loupe.tools.lite.fusion import fuse

    centernet = settled(((400, 130, 600, 340), {"sheep": 0.39, "cow": 0.38, "horse": 0.32}))
    nanodet = settled(((390, 130, 590, 340), {"horse": 0.59, "cow": 0.05}))
    found = fuse(centernet, nanodet, (640, 424), mechanism_options())
    assert found.labels == ("horse",) and found[0].score == pytest.approx(0.455)
    assert dict(found[0].guesses) == pytest.approx({"cow": 0.38, "sheep": 0.39})  # never below CenterNet's
    assert found[0].box == (400, 130, 600, 340)  # CenterNet's box
    assert centernet.scores.max() == 0.39  # the inputs are not changed (the bench caches them)


def test_an_object_one_detector_alone_found_needs_that_detectors_own_threshold():
    from loupe.tools.lite.fusion import DetectorOptions, fuse

    options = DetectorOptions(centernet_min_score=0.25, nanodet_min_score=0.5)
    centernet = settled(((0, 0, 50, 50), {"cup": 0.3}), ((100, 0, 150, 50), {"bottle": 0.2}))
    nanodet = settled(((0, 100, 50, 150), {"banana": 0.45}), ((100, 100, 150, 150), {"apple": 0.6}))
    assert fuse(centernet, nanodet, (200, 200), options).labels == ("apple", "cup")
    assert fuse(centernet, None, (200, 200), options).labels == ("cup",)


def test_boxes_of_different_things_do_not_match_and_other_family_guesses_need_more_score():
    from loupe.tools.lite.fusion import fuse

    rider = settled(((100, 50, 200, 300), {"person": 0.8, "dog": 0.2}))
    horse = settled(((100, 120, 220, 320), {"horse": 0.7, "cow": 0.16, "cat": 0.2}))
    found = fuse(rider, horse, (400, 400), mechanism_options())
    assert sorted(found.labels) == ["horse", "person"]
    guesses = {o.label: dict(o.guesses) for o in found}
    assert guesses == {"person": {}, "horse": {"cow": 0.16}}  # a cow is a guess for a horse from 0.15; a cat or a dog
    # (for a person) only from 0.3


def test_an_object_below_its_threshold_but_above_the_faint_floor_is_faint_not_found():
    from loupe.tools.lite.fusion import DetectorOptions, fuse

    options = DetectorOptions(centernet_min_score=0.25, nanodet_min_score=0.5, faint_min_score=0.15)
    centernet = settled(((0, 0, 50, 50), {"dog": 0.6}), ((2, 0, 52, 50), {"dog": 0.2}),  # the same dog again
                        ((100, 0, 150, 50), {"cat": 0.2}), ((200, 0, 250, 50), {"bird": 0.12}))
    nanodet = settled(((0, 100, 50, 150), {"horse": 0.3}))  # NanoDet alone has no faint band
    found = fuse(centernet, nanodet, (300, 200), options)
    assert found.labels == ("dog",) and len(found) == 1
    assert [o.label for o in found.faint] == ["cat"]
    assert fuse(centernet, nanodet, (300, 200), DetectorOptions(faint_min_score=1.0)).faint == ()


def test_a_nanodet_box_over_an_object_centernet_is_sure_of_adds_nothing():
    """NanoDet frames CenterNet's objects differently (offset; one box around two umbrellas): such a copy is
    not a second object, while a lone NanoDet object where CenterNet saw nothing of its class still is."""
    from loupe.tools.lite.fusion import fuse

    centernet = settled(((0, 0, 100, 100), {"umbrella": 0.6}), ((0, 100, 100, 200), {"umbrella": 0.6}),
                        ((200, 0, 260, 120), {"person": 0.7}))
    nanodet = settled(((0, 30, 110, 170), {"umbrella": 0.55}),  # across both umbrellas
                      ((215, 10, 275, 130), {"person": 0.6}),  # the person, offset beyond pairing
                      ((200, 150, 260, 200), {"umbrella": 0.6}),  # somewhere else: a third umbrella
                      ((20, 20, 80, 80), {"kite": 0.6}))  # another class under an umbrella: its own object
    found = fuse(centernet, nanodet, (300, 300), mechanism_options())
    assert sorted(found.labels) == ["kite", "person", "umbrella", "umbrella", "umbrella"]
    assert (200, 150, 260, 200) in [o.box for o in found]


def test_a_nanodet_copy_does_not_relabel_its_partner_but_still_confirms_its_own_label():
    """NanoDet's box around a person's upper body pairs with CenterNet's backpack box there: the pair is
    the person CenterNet already found, not a second one. A copy agreeing with its partner's own label
    (a horse half hidden behind another) still lifts it."""
    from loupe.tools.lite.fusion import fuse

    person = settled(((160, 150, 195, 255), {"person": 0.55}), ((164, 153, 191, 217), {"backpack": 0.17,
                                                                                       "person": 0.12}))
    upper_body = settled(((164, 154, 185, 202), {"person": 0.52}))
    found = fuse(person, upper_body, (300, 300))
    assert found.labels == ("person",) and not found.faint

    horses = settled(((0, 180, 300, 400), {"horse": 0.64}), ((0, 170, 150, 330), {"horse": 0.22}))
    hidden = settled(((0, 175, 145, 320), {"horse": 0.4}))
    assert fuse(horses, hidden, (300, 400)).labels == ("horse", "horse")


@needs_pack
def test_a_rider_and_the_board_under_him_are_one_person_and_one_board(detector):
    """skateboarder.jpg: one skateboarder in the air over a concrete bowl, a hand on the board under his feet.
    Rider and board overlap; CenterNet's and NanoDet's boxes of them fuse into one person and one skateboard,
    not a second of either."""
    assert counts(detector, "skateboarder.jpg", ("person", "skateboard")) == (1, 1)


@needs_pack
def test_a_dog_seen_faintly_is_not_counted_even_for_existence_but_kept_as_weak_evidence():
    """dog_show.jpg: CenterNet scores the big dark curly dog only ~0.2, below its counting threshold. On the
    calibration photos such faint objects were there less often than not (issue 23), so neither a count nor
    an existence test counts it; it stays as faint evidence (``Objects.faint``, ``sure_score``), from which the
    agent says the answer rests on weak evidence, and no animal that is not there appears."""
    from loupe.programs.interpreter import Interpreter
    from loupe.tools.lite.fusion import SURE_FROM
    from loupe.tools.registry import default_registry

    image, interpreter = photo("dog_show.jpg"), Interpreter(default_registry(Settings.from_env(), plugins=False))

    def run(name, test=""):
        steps = f"BOX0=LOC(image=IMAGE,object='{name}')\nANSWER0=COUNT(box=BOX0)\n"
        if test:
            steps += f"ANSWER1=EVAL(expr=\"'yes' if {{ANSWER0}} {test} else 'no'\")\n"
        return interpreter.run(steps + f"FINAL_RESULT=RESULT(var={'ANSWER1' if test else 'ANSWER0'})\n",
                               {"IMAGE": image})

    counted = run("dog")
    found = counted.record("BOX0").value
    assert counted.result == 0 and [o.label for o in found.faint] == ["dog"] and found.sure_score == SURE_FROM
    assert run("dog", "> 0").result == "no"
    assert [run(name, "> 0").result for name in ("cat", "horse", "sheep")] == ["no", "no", "no"]
