"""PICK_TEXT's backend: which of OCR's lines (or blocks, or words) answers the question.

Each candidate (``tools.text_candidates``) gets a prior log-weight (text size, confidence, whole line
over fragment, the place the question names). Then the planner's language model has its say:

* a local model that scores continuations (``scoring_method == "kv-cache"``, the embedded SmolLM2):
  each candidate's log-likelihood as the answer after a short prompt listing what was read, per word,
  is added to its prior; small models handle this better than choosing from a list;
* a remote chat model: it is shown the numbered candidates and chooses one (its choice wins; the
  prior breaks a reply that names no candidate);
* no model, or one that cannot do either (the oracle stand-in): the prior alone decides.
"""

from __future__ import annotations

import re

from tools.injected import LLM_KEY
from programs.errors import ToolError
from programs.values import Objects
from tools.text_candidates import Candidate, candidates, prior, reading_order

LLM_WEIGHT = 1.0  # log-likelihood per word vs prior log-weight
MAX_CANDIDATES = 24  # the best by prior, so a page of small print does not flood the model
_NUMBER = re.compile(r"\d+")


class LlmTextPicker:
    def __init__(self, context):
        self.context = context

    def run(self, text: Objects, question: str) -> str:
        if not isinstance(text, Objects) or not any(o.text for o in text):
            raise ToolError("PICK_TEXT found no text to choose from: OCR read nothing there "
                            "(try OCR on the whole image, or a larger crop)")
        lines = reading_order(text.filter(lambda o: bool(o.text)))
        found = candidates(lines)
        tallest = max(c.line_height for c in found)
        priors = [prior(c, question, lines.image_size, tallest) for c in found]
        ranked = sorted(range(len(found)), key=lambda i: -priors[i])[:MAX_CANDIDATES]
        found, priors = [found[i] for i in ranked], [priors[i] for i in ranked]
        scores = self._llm_scores(found, question, lines, priors)
        return found[max(range(len(found)), key=lambda i: scores[i])].text

    def _llm_scores(self, found: list[Candidate], question: str, lines: Objects, priors: list[float]):
        llm = self.context.provided(LLM_KEY)
        method = getattr(llm, "scoring_method", None)
        if llm is None or len(found) == 1:
            return priors
        read = "\n".join(o.text for o in lines)
        if method == "kv-cache":
            prompt = (f"Text read in a photo:\n{read}\n\nQuestion: {question}\n"
                      "Answer with the words from the photo that answer it.\nAnswer:")
            likelihoods = llm.score(prompt, [" " + c.text for c in found])
            return [p + LLM_WEIGHT * lik / max(1, len(c.text.split()))
                    for p, lik, c in zip(priors, likelihoods, found)]
        if method in ("multiple-choice", "echo-logprobs"):
            return _chosen(llm, found, question, read, priors)
        return priors


def _chosen(llm, found: list[Candidate], question: str, read: str, priors: list[float]) -> list[float]:
    """A chat model picks a numbered candidate; that one gets the top score."""
    options = "\n".join(f"{i + 1}. {c.text}" for i, c in enumerate(found))
    prompt = (f"Text read in a photo:\n{read}\n\nQuestion: {question}\n\nWhich of these answers it? "
              f"Reply with the number only.\n{options}\n")
    reply = llm.complete(prompt, system="You pick the answer from a list.", max_tokens=8).text
    match = _NUMBER.search(reply)
    pick = int(match.group()) - 1 if match else -1
    if not 0 <= pick < len(found):
        return priors
    return [p + (1e6 if i == pick else 0.0) for i, p in enumerate(priors)]
