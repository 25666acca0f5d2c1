import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so "standins:registry" resolves here and in Ray workers
    sys.path.insert(0, str(HERE))

QUESTIONS = [
    {"id": "q1", "image": "a.png", "query": "How many dogs are there?", "kind": "answer", "answers": ["1", "one"],
     "expect_tools": ["LOC", "COUNT"], "needs": ["coco"]},
    {"id": "q2", "image": "b.png", "query": "How many cats are there?", "kind": "answer", "answers": ["two"],
     "expect_tools": ["LOC", "COUNT"], "needs": ["coco"]},
    {"id": "q3", "image": "a.png", "query": "Is there a cat?", "kind": "answer", "answers": ["yes"],
     "expect_tools": ["LOC", "COUNT", "EVAL"], "needs": ["coco"]},
    {"id": "q4", "images": ["a.png", "b.png"], "query": "There is a cat in both images.", "kind": "answer",
     "answers": ["yes"], "expect_tools": ["LOC", "COUNT", "EVAL"], "needs": ["coco", "two_images"]},
    {"id": "q5", "image": "b.png", "query": "Blur every face", "kind": "edit", "expect_tools": ["FACEDET", "BLUR"],
     "needs": ["face"], "region": [[20, 20, 40, 40]]},
]
PROGRAMS = {
    "How many dogs are there?": "BOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\nR=RESULT(var=ANSWER0)",
    "How many cats are there?": "BOX0=LOC(image=IMAGE,object='cat')\nANSWER0=COUNT(box=BOX0)\nR=RESULT(var=ANSWER0)",
    "Is there a cat?": ("BOX0=LOC(image=IMAGE,object='cat')\nANSWER0=COUNT(box=BOX0)\n"
                        "ANSWER1=EVAL(expr=\"'yes' if {ANSWER0} > 0 else 'no'\")\nR=RESULT(var=ANSWER1)"),
    "There is a cat in both images.": (
        "BOX0=LOC(image=LEFT,object='cat')\nBOX1=LOC(image=RIGHT,object='cat')\nANSWER0=COUNT(box=BOX0)\n"
        "ANSWER1=COUNT(box=BOX1)\nANSWER2=EVAL(expr=\"'yes' if {ANSWER0} > 0 and {ANSWER1} > 0 else 'no'\")\n"
        "R=RESULT(var=ANSWER2)"),
    "Blur every face": "OBJ0=FACEDET(image=IMAGE)\nIMAGE0=BLUR(image=IMAGE,object=OBJ0)\nR=RESULT(var=IMAGE0)",
}


@pytest.fixture
def bench(tmp_path):
    """A tiny benchmark over synthetic images, and an oracle programs file: (questions, images, oracle spec)."""
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(images / name)
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    programs = tmp_path / "programs.jsonl"
    programs.write_text("".join(json.dumps({"query": q, "program": p}) + "\n" for q, p in PROGRAMS.items()))
    return questions, images, f"oracle:{programs}"


@pytest.fixture
def calls():
    import standins

    standins.CALLS.clear()
    return standins.CALLS
