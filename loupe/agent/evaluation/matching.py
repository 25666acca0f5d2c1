"""Answer matching, exactly as the benchmark's README says: lowercase, trim, delete punctuation,
collapse spaces, number words to digits (``zero``/``none`` to ``0``); correct when equal to any answer."""

from __future__ import annotations

import re
import string
from typing import Iterable

NUMBER_WORDS = {
    "zero": "0", "none": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20",
}
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_SPACES = re.compile(r"\s+")


def normalize(text) -> str:
    """``"  Three."`` -> ``"3"``; ``"4:33"`` -> ``"433"``; ``"Sunset Blvd."`` -> ``"sunset blvd"``."""
    text = _SPACES.sub(" ", str(text).lower().strip().translate(_PUNCTUATION)).strip()
    return " ".join(NUMBER_WORDS.get(word, word) for word in text.split(" ")) if text else ""


def answer_matches(prediction, answers: Iterable[str]) -> bool:
    """Whether ``prediction`` equals any of ``answers`` after ``normalize``; an empty prediction never does."""
    predicted = normalize(prediction)
    return bool(predicted) and any(predicted == normalize(a) for a in answers)
