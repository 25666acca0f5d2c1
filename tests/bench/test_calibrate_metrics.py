"""bench/calibrate.py's metrics, split and band on synthetic labels (no models, no photos)."""

from collections import Counter
import importlib.util
import json
from pathlib import Path

import sys

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("calibrate", ROOT / "bench" / "calibrate.py")
calibrate = importlib.util.module_from_spec(_spec)
sys.modules["calibrate"] = calibrate  # dataclasses look their module up
_spec.loader.exec_module(calibrate)


def row(objects=None, colours=None, faces=0, text=(), lookalikes=()):
    return {"image": "tests:x.jpg", "objects": dict(objects or {}), "colours": dict(colours or {}), "faces": faces,
            "text": list(text), "lookalikes": list(lookalikes)}


def pred(exists=(), counts=None, colours=None, faces=0, lines=()):
    return calibrate.Prediction(set(exists), Counter(counts or {}), dict(colours or {}), faces, list(lines))


def test_existence_counts_false_yes_and_false_no_over_every_class():
    rows = [row({"dog": 1, "person": "many"}, lookalikes=["cat"]), row({"car": 2})]
    preds = [pred({"dog", "cat"}), pred({"car", "truck", "person"})]
    tally = calibrate.existence(rows, preds)
    assert (tally.tp, tally.fp, tally.fn) == (2, 3, 1)  # FP: cat, truck, person (photo 2); FN: person (photo 1)
    assert tally.tn == 2 * 80 - 6
    assert tally.precision == pytest.approx(2 / 5) and tally.recall == pytest.approx(2 / 3)
    assert (tally.lookalike_fp, tally.lookalike_pairs) == (1, 1)
    only_dogs = calibrate.existence(rows, preds, ["dog"])
    assert (only_dogs.tp, only_dogs.fp, only_dogs.fn, only_dogs.tn) == (1, 0, 0, 1)


def test_counts_judge_only_labelled_numbers_one_to_six():
    rows = [row({"dog": 2, "person": "many", "car": 7, "cup": 1})]
    right, total = calibrate.count_exact(rows, [pred(counts={"dog": 2, "person": 30, "car": 7, "cup": 0})])
    assert (right, total) == (1, 2)  # dog right, cup wrong; "many" and 7 not judged


def test_face_counts_skip_many_and_judge_zero():
    rows = [row(faces=0), row(faces=2), row(faces="many"), row(faces=None)]
    preds = [pred(faces=1), pred(faces=2), pred(faces=9), pred(faces=0)]
    assert calibrate.face_exact(rows, preds) == (1, 2)


def test_colour_of_a_missed_object_is_wrong():
    rows = [row({"car": 1, "dog": 1}, colours={"car": "white", "dog": "black"})]
    assert calibrate.colour_right(rows, [pred(colours={"car": "white"})]) == (1, 2)


def test_ocr_lines_normalise_case_and_spacing_and_are_used_once():
    assert calibrate.normal_text(" Exit  Only ") == "exitonly" == calibrate.normal_text("EXITONLY")
    assert calibrate.normal_text("ＡＢＣ") == "abc"  # NFKC: full-width letters
    rows = [row(text=["STOP", "stop", "Main St"]), row(text=[])]
    preds = [pred(lines=["stop", "MainSt", "5T0P"]), pred(lines=["noise", " "])]
    assert calibrate.ocr_exact(rows, preds) == (2, 3, 2)  # one "stop" read for two labelled; 5T0P and noise false


def test_costs_add_false_yes_and_false_no_equally():
    rows = [row({"dog": 1}), row({})]
    assert calibrate.detector_cost(rows, [pred(set(), {}), pred({"cat"})]) == 1 + 1 + 1  # FN dog, FP cat, dog count
    assert calibrate.face_cost([row(faces=1)], [pred(faces=0)]) == 1
    assert calibrate.ocr_cost([row(text=["A"])], [pred(lines=["B"])]) == 2


def test_frequent_classes_need_the_minimum_photos():
    rows = [row({"dog": 1})] * 10 + [row({"cat": 1})] * 9
    assert calibrate.frequent_classes(rows) == ["dog"]


def test_split_is_fixed_by_its_seed_and_halves_cover_every_photo_once():
    images = [f"pool:{i:05d}.jpg" for i in range(11)]
    split = calibrate.make_split(images + images[:3])
    assert split == calibrate.make_split(list(reversed(images)))
    assert sorted(split["tune"] + split["test"]) == sorted(images)
    assert (len(split["tune"]), len(split["test"])) == (6, 5)
    assert split["seed"] == calibrate.SEED and split != calibrate.make_split(images, seed=1)


def test_split_refuses_to_overwrite(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps({"image": f"pool:{i}.jpg", "objects": {}, "faces": 0, "text": []})
                                for i in range(4)) + "\n")
    split = tmp_path / "split.json"
    assert calibrate.main(["--labels", str(labels), "--split-file", str(split), "--split"]) == 0
    first = split.read_text()
    assert calibrate.main(["--labels", str(labels), "--split-file", str(split), "--split"]) == 1
    assert split.read_text() == first


def test_labels_drop_held_back_photos_and_unknown_classes(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in (
        {"image": "pool:kept.jpg", "objects": {"dog": 2, "unicorn": 1}, "colours": {"dog": "grey"}, "faces": 0},
        {"image": "pool:secret.jpg", "objects": {}, "faces": 0},
    )) + "\n")
    warnings = []
    rows = calibrate.read_labels(labels, {"secret.jpg"}, warn=warnings.append)
    assert [r["image"] for r in rows] == ["pool:kept.jpg"]
    assert rows[0]["objects"] == {"dog": 2} and rows[0]["colours"] == {"dog": "gray"}
    assert len(warnings) == 2


def test_isotonic_fit_is_monotone_and_band_lies_between_no_and_yes():
    scores = [0.1, 0.12, 0.15, 0.2, 0.22, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    truths = [0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1]
    xs, fitted = calibrate.isotonic(scores, truths)
    assert list(xs) == sorted(scores) and all(a <= b for a, b in zip(fitted, fitted[1:]))
    assert fitted.sum() == pytest.approx(sum(truths))  # PAV keeps the mean
    lo, hi = calibrate.unsure_band(scores, truths, accuracy=0.8)
    assert lo == pytest.approx(0.22) and hi == pytest.approx(0.5)
    assert calibrate.unsure_band([0.1, 0.9], [0, 1]) == (None, None)


def test_misses_split_counts_and_faces_and_colour_naming_alone():
    rows = [row({"dog": 2, "cup": 1, "car": 3}, colours={"dog": "brown", "cup": "red"}, faces=0), row(faces=0)]
    preds = [pred(counts={"dog": 1, "cup": 2, "car": 3}, colours={"dog": "brown"}, faces=1), pred(faces=0)]
    assert calibrate.count_misses(rows, preds) == (1, 1)
    assert calibrate.faces_where_none(rows, preds) == (1, 2)
    assert calibrate.colour_of_found(rows, preds) == (1, 1)  # the cup was not found: not a naming error
    assert calibrate.colour_right(rows, preds) == (1, 2)
