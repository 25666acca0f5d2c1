"""TF-IDF views of the example library in numpy, the weighting of scikit-learn's ``TfidfVectorizer``
(lowercase, smooth idf, sublinear tf, rows L2-normalised) for the two analyzers the retriever uses:
word 1-2-grams (token pattern ``\\b\\w+\\b``) and ``char_wb`` 3-5-grams.

Why not scikit-learn itself: importing it costs ~1.5-3 s of a cold ``loupe ask`` on the 2-core CPU
(``sklearn.base`` pulls in scipy.stats), for ~100 short documents that numpy weighs in milliseconds.
scikit-learn stays the reference: ``tests/agent/test_retrieval.py`` checks the analyzers, vocabulary, idf
and matrix against ``TfidfVectorizer`` on the whole library.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"(?u)\b\w+\b")
_SPACES = re.compile(r"\s\s+")


def word_ngrams(text: str, low: int = 1, high: int = 2) -> list[str]:
    """scikit-learn's ``analyzer="word"`` terms: lowercase tokens, then their ``low``..``high``-grams joined by spaces."""
    tokens = _WORD.findall(text.lower())
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), high + 1):
        grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def char_wb_ngrams(text: str, low: int = 3, high: int = 5) -> list[str]:
    """scikit-learn's ``analyzer="char_wb"`` terms: character ``low``..``high``-grams inside each
    space-padded word (a word shorter than ``n`` counts once, whole)."""
    grams = []
    for word in _SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(low, high + 1):
            count = max(1, len(word) - n + 1)
            grams += [word[i:i + n] for i in range(count)]
            if count == 1:
                break
    return grams


class TfidfView:
    """One fitted view: ``vocabulary`` (term -> column), ``idf`` (terms,), ``matrix`` (documents, terms) with
    L2-normalised rows (so a row product is a cosine), and ``analyze(text) -> terms``."""

    def __init__(self, analyze, documents: list[str]):
        import numpy as np

        self.analyze = analyze
        counted = [_counts(analyze(d)) for d in documents]
        self.vocabulary = {term: i for i, term in enumerate(sorted({t for c in counted for t in c}))}
        frequency = np.zeros(len(self.vocabulary))
        for counts in counted:
            frequency[[self.vocabulary[t] for t in counts]] += 1
        self.idf = np.log((1 + len(documents)) / (1 + frequency)) + 1.0
        self.matrix = np.zeros((len(documents), len(self.vocabulary)))
        for row, counts in enumerate(counted):
            if counts:
                self.matrix[row, [self.vocabulary[t] for t in counts]] = 1.0 + np.log(list(counts.values()))
        self.matrix *= self.idf
        norms = np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.matrix /= np.where(norms > 0, norms, 1.0)
        self._zeros = np.zeros(len(documents))

    def similarities(self, query: str):
        """Cosine similarity of ``query`` to every document (a float array, one per document)."""
        import numpy as np

        counts = {self.vocabulary[t]: n for t, n in _counts(self.analyze(query)).items() if t in self.vocabulary}
        if not counts:
            return self._zeros
        columns = np.fromiter(counts, dtype=np.int64)
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=float))) * self.idf[columns]
        weights /= np.linalg.norm(weights)
        return self.matrix[:, columns] @ weights


def _counts(terms: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for term in terms:
        counts[term] = counts.get(term, 0) + 1
    return counts
