"""Example retrieval: relevant kinds first, varied results (speed: bench/bench_latency.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from agent.retrieval import ExampleRetriever  # noqa: E402 (after the importorskip)
from programs.examples_library import Example, load_library  # noqa: E402


@pytest.fixture(scope="module")
def retriever():
    return ExampleRetriever(load_library())


def _kinds(examples):
    return [e.kind for e in examples]


def test_blurring_faces_brings_blur_and_face_examples_first(retriever):
    top = retriever.top("blur all faces", k=6)
    assert top[0].kind == "blur"
    assert {"BLUR", "FACEDET"} <= {s.module for s in top[0].parsed_program().steps}
    assert set(_kinds(top[:3])) <= {"blur", "faces", "scripts", "emoji"}


def test_counting_question_brings_counting_examples(retriever):
    top = retriever.top("how many cats", k=6)
    assert "counting" in _kinds(top)[:2]
    counts = [e for e in top if "COUNT" in {s.module for s in e.parsed_program().steps}]
    assert len(counts) >= 5  # counting, totals, counts in a region or per image: all programs that COUNT


def test_spatial_question_brings_a_spatial_example_near_the_top(retriever):
    top = retriever.top("is the cup left of the laptop", k=6)
    spatial = [e for e in top[:2] if e.kind == "spatial"]
    assert spatial and "CROP_LEFTOF" in {s.module for s in spatial[0].parsed_program().steps}


@pytest.mark.parametrize("query, kind", [
    ("make the bus pop in colour and the rest grey", "colorpop"),
    ("blur the background behind the dog", "bgblur"),
    ("put an emoji over each face", "emoji"),
    ("replace the bottle with a vase of flowers", "replace"),
    ("read the text on the poster", "ocr"),
    ("the left image has more cats than the right image", "two_image"),
    ("tag the players of a famous football team", "tagging"),
])
def test_edit_and_reading_requests_find_their_kind(retriever, query, kind):
    assert kind in _kinds(retriever.top(query, k=3))


def test_results_are_varied_at_most_two_per_kind(retriever):
    for query in ("how many dogs are there", "blur the faces", "is there a cat"):
        kinds = _kinds(retriever.top(query, k=6))
        assert len(kinds) == 6
        assert max(kinds.count(k) for k in kinds) <= 2


def test_the_cap_is_relaxed_rather_than_returning_too_few():
    examples = [Example(f"e{i}", f"count the dogs {i}", "counting", "X=RESULT(var=IMAGE)\n") for i in range(4)]
    assert len(ExampleRetriever(examples, max_per_kind=1).top("count dogs", k=3)) == 3


def test_k_and_query_edge_cases(retriever):
    assert retriever.top("anything", k=0) == []
    assert len(retriever.top("", k=4)) == 4          # no known word: still some examples
    assert len(retriever.top("zzzz qqqq", k=4)) == 4
    assert len(retriever.top("x", k=1000)) == len(retriever.examples)
    with pytest.raises(TypeError):
        retriever.top(None)


def test_bad_construction_is_refused():
    with pytest.raises(ValueError, match="at least one example"):
        ExampleRetriever([])
    with pytest.raises(ValueError, match="max_per_kind"):
        ExampleRetriever(load_library(), max_per_kind=0)


def test_fast_query_weights_equal_scikit_learns(retriever):
    retriever.top("warm up")
    words, chars, _, _ = retriever._built()
    for view in (words, chars):
        for query in ("How many cats are on the sofa?", "blur blur all the faces", "zzz"):
            expected = (view.vectorizer.transform([query]) @ view.matrix.T).toarray()[0]
            assert np.allclose(view.similarities(query), expected)


def test_scores_are_sorted_similarities(retriever):
    scored = retriever.scores("count the kites in the sky")
    values = [s for _, s in scored]
    assert values == sorted(values, reverse=True) and 0 <= values[-1] <= values[0] <= 1.0 + 1e-9
