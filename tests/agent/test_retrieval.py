"""Example retrieval: relevant kinds first, varied results (speed: bench/bench_latency.py); its numpy
TF-IDF equals scikit-learn's TfidfVectorizer."""

from __future__ import annotations

import numpy as np
import pytest

from loupe.agent.planning.retrieval import ExampleRetriever, _document
from loupe.agent.planning.retrieval_tfidf import TfidfView, char_wb_ngrams, word_ngrams
from loupe.programs.examples_library import Example, load_library


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


ODD_TEXTS = ["How many cats are on the sofa?", "blur  blur\tall the FACES", "zzz", "", "a I ok x",
             "Café naïve  coöperate", "what's on the 2nd shelf, left-of the TV?"]


def _sklearn(analyzer):
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    if analyzer == "word":
        return sklearn_text.TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b",
                                            sublinear_tf=True)
    return sklearn_text.TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)


@pytest.mark.parametrize("analyzer, ours", [("word", word_ngrams), ("char_wb", char_wb_ngrams)])
def test_the_numpy_tfidf_equals_scikit_learns(analyzer, ours):
    documents = [_document(e) for e in load_library()] + ODD_TEXTS
    reference = _sklearn(analyzer)
    expected = reference.fit_transform(documents).toarray()
    analyze = reference.build_analyzer()
    for text in documents:
        assert ours(text) == analyze(text)
    view = TfidfView(ours, documents)
    assert view.vocabulary == reference.vocabulary_
    assert np.allclose(view.idf, reference.idf_) and np.allclose(view.matrix, expected)
    for query in ODD_TEXTS + ["count the red kites", "colour pop"]:
        assert np.allclose(view.similarities(query), (reference.transform([query]) @ expected.T)[0])


def test_scores_are_sorted_similarities(retriever):
    scored = retriever.scores("count the kites in the sky")
    values = [s for _, s in scored]
    assert values == sorted(values, reverse=True) and 0 <= values[-1] <= values[0] <= 1.0 + 1e-9
