"""Pick the library examples most similar to a user's query, offline, for the planner's prompt.

Similarity is TF-IDF cosine over two views of each instruction, mixed with fixed weights: word unigrams
and bigrams ("how many", "left of") and character 3-5-grams inside words (so "pixelate" is near
"pixelated" and "colour" near "color"). The ranking then favours variety with maximal marginal
relevance (MMR) and at most ``max_per_kind`` examples of one kind, so the prompt shows different
constructs rather than six near-copies. The TF-IDF weighting is scikit-learn's, computed in numpy
(``loupe.agent.planning.retrieval_tfidf``: importing scikit-learn cost a cold ``loupe ask`` 1.5-3 s).

The index is built once, on the first query (tens of ms); after that a query costs well under a
millisecond (its own TF-IDF weighting and a product against ~100 rows).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from loupe.programs.examples_library import Example

WORD_WEIGHT = 0.6            # share of the word view in the similarity; the character view has the rest
MMR_LAMBDA = 0.75            # 1.0 = pure relevance; lower trades relevance for variety
DEFAULT_MAX_PER_KIND = 2


class ExampleRetriever:
    """``ExampleRetriever(examples).top(query, k)``: the ``k`` most useful examples for ``query``."""

    def __init__(self, examples: Sequence[Example], max_per_kind: int = DEFAULT_MAX_PER_KIND,
                 mmr_lambda: float = MMR_LAMBDA):
        if not examples:
            raise ValueError("ExampleRetriever needs at least one example")
        if max_per_kind < 1:
            raise ValueError(f"max_per_kind must be at least 1; got {max_per_kind}")
        if not 0.0 <= mmr_lambda <= 1.0:
            raise ValueError(f"mmr_lambda must be between 0 and 1; got {mmr_lambda}")
        self.examples = tuple(examples)
        self.max_per_kind = max_per_kind
        self.mmr_lambda = mmr_lambda
        self._index = None
        self._lock = threading.Lock()

    def top(self, query: str, k: int = 6) -> list[Example]:
        """Up to ``k`` examples, the most relevant first, varied by MMR and the per-kind cap."""
        if not isinstance(query, str):
            raise TypeError(f"query must be text; got {type(query).__name__}")
        if k <= 0:
            return []
        relevance = self._relevance(query)
        return [self.examples[i] for i in self._diverse(relevance, k)]

    def scores(self, query: str) -> list[tuple[Example, float]]:
        """Every example with its similarity to ``query`` (0..1), the most similar first."""
        relevance = self._relevance(query)
        order = sorted(range(len(self.examples)), key=lambda i: -relevance[i])
        return [(self.examples[i], float(relevance[i])) for i in order]

    # ---- internals --------------------------------------------------------------------------------

    def _relevance(self, query: str):
        words, chars, _, _ = self._built()
        return WORD_WEIGHT * words.similarities(query) + (1 - WORD_WEIGHT) * chars.similarities(query)

    def _diverse(self, relevance, k: int) -> list[int]:
        import numpy as np

        _, _, between, kinds = self._built()
        redundancy = np.zeros(len(self.examples))   # each example's highest similarity to those chosen
        available = np.ones(len(self.examples), dtype=bool)
        per_kind = np.zeros(kinds.max() + 1, dtype=int)
        chosen: list[int] = []
        while available.any() and len(chosen) < k:
            score = self.mmr_lambda * relevance - (1 - self.mmr_lambda) * redundancy
            allowed = available & (per_kind[kinds] < self.max_per_kind)
            if not allowed.any():  # every kind left is full: relax the cap rather than return fewer
                allowed = available
            best = int(np.argmax(np.where(allowed, score, -np.inf)))
            chosen.append(best)
            available[best] = False
            per_kind[kinds[best]] += 1
            redundancy = np.maximum(redundancy, between[best])
        return chosen

    def _built(self):
        with self._lock:
            if self._index is None:
                self._index = _build_index([_document(e) for e in self.examples],
                                           [e.kind for e in self.examples])
            return self._index


def _build_index(documents: list[str], kinds: list[str]):
    """(word view, character view, example-to-example similarity matrix, kind number of each example)."""
    import numpy as np

    from loupe.agent.planning.retrieval_tfidf import TfidfView, char_wb_ngrams, word_ngrams

    words, chars = TfidfView(word_ngrams, documents), TfidfView(char_wb_ngrams, documents)
    between = WORD_WEIGHT * (words.matrix @ words.matrix.T) + (1 - WORD_WEIGHT) * (chars.matrix @ chars.matrix.T)
    kind_numbers = {kind: n for n, kind in enumerate(dict.fromkeys(kinds))}
    return words, chars, between, np.array([kind_numbers[k] for k in kinds])


def _document(example: Example) -> str:
    """What is indexed: the instruction, and the kind in words ("two_image" -> "two image")."""
    return f"{example.instruction} {example.kind.replace('_', ' ')}"
