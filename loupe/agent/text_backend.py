"""PICK_TEXT's backend: which of OCR's lines (or blocks, or words) answers the question.

Each candidate (``loupe.tools.text_candidates``) gets a prior log-weight (text size, confidence, whole line
over fragment, the place the question names, the shape of answer the question asks for). Then the
planner's language model has its say:

* a local model that scores continuations (``scoring_method == "kv-cache"``, the embedded SmolLM2):
  ``SCORING`` says how. Measured on the visible OCR items and our held-out ones (BENCHMARKS.md, "OCR
  answers"), every way of adding the 135M model's scores chose worse lines than the priors alone, so
  the default is ``"prior"``: "likelihood" (log p(c | read, question) per word, added to the prior)
  prefers short strings whatever was asked; "pmi" (log p(c | read, question) - log p(c | read, a
  neutral question), the channel contrast, clipped to ``PMI_CLIP``) and "tiebreak" (the same, only
  among candidates within ``TIE_MARGIN`` of the best prior) prefer one word of a line ("REPAIR" for
  "BICYCLE REPAIR"). A larger local model may be measured with ``bench/bench_pick_text.py``;
* a remote chat model: it is shown the numbered candidates and chooses one (its choice wins; the
  prior breaks a reply that names no candidate);
* no model, or one that cannot do either (the oracle stand-in): the prior alone decides.

``SCORINGS`` names the ways a scoring model can be used; ``bench/bench_pick_text.py`` measures them.
"""

from __future__ import annotations

import re

from loupe.tools.injected import LLM_KEY
from loupe.programs.errors import ToolError
from loupe.programs.values import Objects
from loupe.tools.text_candidates import Candidate, candidates, prior, reading_order

LLM_WEIGHT = 1.0  # "likelihood": log-likelihood per word vs prior log-weight
PMI_WEIGHT = 1.0  # "pmi": nats of pointwise mutual information vs prior log-weight
PMI_CLIP = 1.5  # "pmi": the most the model may add to or take from a candidate's prior, nats
MAX_CANDIDATES = 24  # the best by prior, so a page of small print does not flood the model
TIE_MARGIN = 0.5  # "tiebreak": candidates whose priors are this close to the best are left to the model
SCORING = "prior"
SCORINGS = ("prior", "likelihood", "pmi", "tiebreak")
_NUMBER = re.compile(r"\d+")
_ASK = "Answer with the words from the photo that answer it.\nAnswer:"


class LlmTextPicker:
    def __init__(self, context):
        self.context = context

    def run(self, text: Objects, question: str) -> str:
        return pick(text, question, self.context.provided(LLM_KEY)).text


def pick(text: Objects, question: str, llm, scoring: str = SCORING) -> Candidate:
    """The candidate of ``text`` (OCR's lines) that best answers ``question``, by prior and ``llm``."""
    if not isinstance(text, Objects) or not any(o.text for o in text):
        raise ToolError("PICK_TEXT found no text to choose from: OCR read nothing there "
                        "(try OCR on the whole image, or a larger crop)")
    lines = reading_order(text.filter(lambda o: bool(o.text)))
    found = candidates(lines)
    tallest = max(c.line_height for c in found)
    priors = [prior(c, question, lines.image_size, tallest) for c in found]
    ranked = sorted(range(len(found)), key=lambda i: -priors[i])[:MAX_CANDIDATES]
    found, priors = [found[i] for i in ranked], [priors[i] for i in ranked]
    scores = llm_scores(llm, found, question, lines, priors, scoring)
    return found[max(range(len(found)), key=lambda i: scores[i])]


def llm_scores(llm, found: list[Candidate], question: str, lines: Objects, priors: list[float],
               scoring: str = SCORING) -> list[float]:
    """Each candidate's prior plus what ``llm`` adds (log-weights, higher is better); ``scoring`` says
    how a scoring (kv-cache) model is used, a chat model always chooses."""
    method = getattr(llm, "scoring_method", None)
    if llm is None or len(found) == 1:
        return priors
    read = "\n".join(o.text for o in lines)
    if method == "kv-cache":
        if scoring == "prior":
            return priors
        if scoring == "tiebreak":
            return _tiebreak(llm, found, question, read, priors)
        if scoring == "likelihood":
            asked = llm.score(_prompt(read, question), [" " + c.text for c in found])
            return [p + LLM_WEIGHT * lik / max(1, len(c.text.split())) for p, lik, c in zip(priors, asked, found)]
        pmi = _pmi(llm, found, question, read)
        return [p + PMI_WEIGHT * max(-PMI_CLIP, min(PMI_CLIP, m)) for p, m in zip(priors, pmi)]
    if method in ("multiple-choice", "echo-logprobs"):
        return _chosen(llm, found, question, read, priors)
    return priors


def _prompt(read: str, question: str) -> str:
    return f"Text read in a photo:\n{read}\n\nQuestion: {question}\n{_ASK}"


def _pmi(llm, found: list[Candidate], question: str, read: str) -> list[float]:
    """``log p(c | read, question) - log p(c | read, a neutral question)`` per candidate, nats (two
    scoring passes over the shared prompt prefix)."""
    options = [" " + c.text for c in found]
    asked = llm.score(_prompt(read, question), options)
    plain = llm.score(_prompt(read, "What is written there?"), options)
    return [a - b for a, b in zip(asked, plain)]


def _tiebreak(llm, found: list[Candidate], question: str, read: str, priors: list[float]) -> list[float]:
    """The model reorders only the candidates within ``TIE_MARGIN`` of the best prior (by prior + PMI);
    they all stay ahead of the rest."""
    best = max(priors)
    near = [i for i, p in enumerate(priors) if p >= best - TIE_MARGIN]
    if len(near) < 2:
        return priors
    pmi = _pmi(llm, [found[i] for i in near], question, read)
    scores = list(priors)
    lowest = min(priors[i] + m for i, m in zip(near, pmi))
    for i, m in zip(near, pmi):
        scores[i] = best + TIE_MARGIN + (priors[i] + m - lowest)
    return scores


def _chosen(llm, found: list[Candidate], question: str, read: str, priors: list[float]) -> list[float]:
    """A chat model picks a numbered candidate; that one gets the top score."""
    options = "\n".join(f"{i + 1}. {c.text}" for i, c in enumerate(found))
    prompt = (f"Text read in a photo:\n{read}\n\nQuestion: {question}\n\nWhich of these answers it? "
              f"Reply with the number only.\n{options}\n")
    reply = llm.complete(prompt, system="You pick the answer from a list.", max_tokens=8).text
    match = _NUMBER.search(reply)
    pick_at = int(match.group()) - 1 if match else -1
    if not 0 <= pick_at < len(found):
        return priors
    return [p + (1e6 if i == pick_at else 0.0) for i, p in enumerate(priors)]
