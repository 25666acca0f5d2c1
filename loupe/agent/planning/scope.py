"""Whether a question lies beyond what the lite tier answers (what someone is doing, a breed, a feeling, the
weather, what someone holds, a brand, an age...), judged by meaning rather than by word lists.

The request's main clause (``loupe.agent.planning.reading``) is embedded (``loupe.agent.planning.embeddings``) and compared
with the sentences of ``scope.json``: kinds of request the tools answer (``within``) and kinds only an
open-question model answers (``beyond``). The question is beyond the tier when its closest ``beyond`` sentence is
closer than its closest ``within`` one by more than ``MARGIN``, a margin chosen on a calibration set of our own
phrasings (``bench/rephrase/calibrate_scope.py`` over ``bench/rephrase/intent_calibration.jsonl``; the numbers
are in BENCHMARKS.md). Without the embedding model nothing is judged (``judge`` returns None) and the rules of
``loupe.agent.planning.coverage`` stand alone.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from loupe.agent.planning.embeddings import encoder

MARGIN = 0.060   # beyond - within similarity above which a question is refused (see the module docstring)


@dataclass(frozen=True)
class Judgement:
    """``within`` / ``beyond``: the highest cosine to a sentence of each side; ``kind``: the kind of the closest
    ``beyond`` sentence; ``says``: what that kind asks about, for the refusal."""

    within: float
    beyond: float
    kind: str
    says: str

    @property
    def margin(self) -> float:
        return self.beyond - self.within

    def is_beyond(self, margin: float = MARGIN) -> bool:
        return self.margin > margin


@functools.lru_cache(maxsize=1)
def _descriptions() -> dict:
    return json.loads(Path(__file__).with_name("scope.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _index():
    """(within matrix, beyond matrix, the beyond rows' kinds), embedded once per process."""
    data = _descriptions()
    within = [s for sentences in data["within"].values() for s in sentences]
    beyond = [(kind, s) for kind, entry in data["beyond"].items() for s in entry["examples"]]
    model = encoder()
    return model.encode(within), model.encode([s for _, s in beyond]), [kind for kind, _ in beyond]


@functools.lru_cache(maxsize=1024)
def judge(clause: str) -> Judgement | None:
    """How ``clause`` (a request's main clause) compares with the scope descriptions; None without the model."""
    model = encoder()
    if model is None or not clause.strip():
        return None
    within, beyond, kinds = _index()
    vector = model.encode([clause])[0]
    near_within, near_beyond = within @ vector, beyond @ vector
    best = int(near_beyond.argmax())
    kind = kinds[best]
    return Judgement(float(near_within.max()), float(near_beyond[best]), kind,
                     _descriptions()["beyond"][kind]["says"])
