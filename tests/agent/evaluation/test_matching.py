"""Answer matching as the benchmark's README states it: a table of cases."""

import pytest

from loupe.agent.evaluation.matching import answer_matches, normalize


@pytest.mark.parametrize("prediction, answers, expected", [
    ("2", ["2", "two"], True),
    ("Two", ["2"], True),
    ("  three. ", ["3"], True),
    ("none", ["0", "zero"], True),
    ("zero", ["0"], True),
    ("Yes", ["yes"], True),
    ("yes!", ["yes"], True),
    ("4:33", ["433"], True),
    ("Sunset Blvd.", ["sunset blvd", "sunset boulevard"], True),
    ("sunset   boulevard", ["sunset boulevard"], True),
    ("no", ["yes"], False),
    ("3", ["2", "two"], False),
    ("", ["0"], False),
    ("two dogs", ["2"], False),
    ("twenty-one", ["21"], False),
])
def test_answer_matching(prediction, answers, expected):
    assert answer_matches(prediction, answers) is expected


def test_normalize_keeps_words_and_maps_number_words():
    assert normalize("There are Three  cats.") == "there are 3 cats"
