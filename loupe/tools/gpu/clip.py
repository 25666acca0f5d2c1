"""SELECT and CLASSIFY with CLIP (transformers), sharing ONE model (key ``("clip", clip.model)``).

Both crop each object's box from the image, embed all crops of a batch of calls in one forward and all
texts in another, and compare by cosine similarity (CLIP's logit scale, softmax over the candidates).

* SELECT keeps, for each comma-separated query ('dog,red bus'), the object that matches it best
  (VisProg's semantics); ``category`` (optional) is added to the text: 'red, a kind of car'.
* CLASSIFY labels, for each category, the object that matches it best (``Obj.category``), as on the lite tier.

**Classification by description** (Menon & Vondrick, ICLR 2023): a query or category written
``describe:NAME`` (or every one when the option ``clip.descriptors`` is true) is scored as the mean
similarity of the image to "NAME, which VISUAL FEATURE" for the features the planner's LLM lists
(cached per name). It needs the LLM the agent provides to the tool context (as LIST does).

Options: ``clip.model`` (default ``openai/clip-vit-base-patch32``), ``clip.batch`` (64 crops per forward),
``clip.descriptors`` (false).
"""

from __future__ import annotations

import re
import threading

import numpy as np

from loupe.programs.errors import ToolError, ToolUnavailable
from loupe.programs.values import Objects
from loupe.tools.gpu.base import GpuBackend, chunks, guarded, to_device
from loupe.tools.imageops import check_objects_fit
from loupe.tools.injected import LLM_KEY  # the planner's LLM, injected per run

PREFIX = "describe:"
_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*(.+?)\s*$")


def affordance(args) -> float:
    """CLIP judges any description."""
    return 1.0


def descriptor_prompt(name: str) -> str:
    """The paper's prompt for the visual features that tell ``name`` apart."""
    return (f"Q: What are useful features for distinguishing a {name} in a photo?\n"
            f"A: There are several useful visual features to tell there is a {name} in a photo:\n-")


def parse_descriptors(reply: str, limit: int = 8) -> list[str]:
    """The bullet items of an LLM reply (the first line may lack its dash: the prompt ends with one)."""
    lines = reply.strip().splitlines()
    items = []
    for i, line in enumerate(lines):
        match = _ITEM.match(line)
        text = match.group(1) if match else (line.strip() if i == 0 else "")
        text = text.strip(" .;,")
        if text and text.lower() not in (t.lower() for t in items) and len(text) <= 100:
            items.append(text)
    return items[:limit]


class ClipBackend(GpuBackend):
    option_name = "clip.model"
    default_model = "openai/clip-vit-base-patch32"

    def __init__(self, context):
        super().__init__(context)
        self._descriptors: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    processor_class = "CLIPProcessor"
    model_class = "CLIPModel"

    # ---- embeddings ------------------------------------------------------------------------------

    def embed_images(self, images) -> np.ndarray:
        """``[N, D]`` unit-norm float32 embeddings of PIL images, in chunks of ``clip.batch``."""
        import torch

        out = []
        with self.model("clip", self._build) as loaded:
            for part in chunks(list(images), int(self.option("clip.batch", 64))):
                inputs = loaded.processor(images=part, return_tensors="pt")
                with torch.inference_mode():
                    features = _features(loaded.model.get_image_features(
                        **to_device(inputs, loaded.device, loaded.dtype)))
                out.append(torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    def embed_texts(self, texts) -> np.ndarray:
        """``[T, D]`` unit-norm float32 embeddings of texts (one padded forward)."""
        import torch

        with self.model("clip", self._build) as loaded:
            inputs = loaded.processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
            with torch.inference_mode():
                features = _features(loaded.model.get_text_features(**to_device(inputs, loaded.device, loaded.dtype)))
            scale = float(loaded.model.logit_scale.detach().float().exp())
        self.logit_scale = scale
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu().numpy()

    # ---- text side: plain prompts or descriptors --------------------------------------------------

    def describes(self, name: str) -> tuple[str, bool]:
        """``("dog", True)`` for ``"describe:dog"`` or when ``clip.descriptors`` is on, else ``(name, False)``."""
        name = name.strip()
        if name.lower().startswith(PREFIX):
            return name[len(PREFIX):].strip(), True
        return name, str(self.option("clip.descriptors", "")).lower() in ("1", "true", "yes", "on")

    def descriptors(self, name: str) -> list[str]:
        """The LLM's visual features of ``name`` (asked once per name)."""
        with self._lock:
            if name in self._descriptors:
                return self._descriptors[name]
        llm = self.context.provided(LLM_KEY)
        if llm is None:
            raise ToolUnavailable("classification by description needs a language model: run through `loupe "
                                  "ask` or the Agent API, or drop the 'describe:' prefix / clip.descriptors")
        items = parse_descriptors(llm.complete(descriptor_prompt(name), max_tokens=120,
                                               system="You list visual features, one per line.").text)
        if not items:
            raise ToolError(f"the language model listed no visual features for {name!r}")
        with self._lock:
            self._descriptors[name] = items
        return items

    def text_scores(self, image_embeddings: np.ndarray, names, context: str = "") -> np.ndarray:
        """``[N, C]`` cosine similarities of N crops to C names (mean over descriptors for described ones)."""
        groups = []
        for raw in names:
            name, by_description = self.describes(raw)
            base = f"{name}, a kind of {context}" if context else name
            texts = [f"{base}, which {d}" for d in self.descriptors(name)] if by_description else [f"a photo of {base}"]
            groups.append(texts)
        flat = self.embed_texts([t for g in groups for t in g])
        sims = image_embeddings @ flat.T
        bounds = np.cumsum([0] + [len(g) for g in groups])
        return np.stack([sims[:, a:b].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])], axis=1)

    def crops(self, calls):
        """PIL crops of every object of every call, and each call's slice into them."""
        pils, spans = [], []
        for call in calls:
            try:
                check_objects_fit(call["image"], call["object"], self.tool)
            except Exception as error:  # this call's failure only
                spans.append(error)
                continue
            start = len(pils)
            pils += [call["image"].crop(o.box).to_pil() for o in call["object"]]
            spans.append(slice(start, len(pils)))
        return pils, spans

    def run_batch(self, calls):
        return guarded(calls, self._run_all)

    def _run_all(self, calls):
        pils, spans = self.crops(calls)
        embeddings = self.embed_images(pils)  # one forward (per clip.batch crops) for the whole batch

        def decide(call, span):
            if isinstance(span, BaseException):
                return span
            if span.stop == span.start:
                return call["object"]
            try:
                return self._decide(call, embeddings[span])
            except Exception as error:
                return error

        return [decide(call, span) for call, span in zip(calls, spans)]


def _features(output):
    """transformers 5 returns a model output from get_*_features; older versions a tensor."""
    return output if hasattr(output, "norm") else getattr(output, "pooler_output", output[0])


def _best_per_candidate(scores: np.ndarray, scale: float) -> np.ndarray:
    """For ``[N, C]`` similarities: per candidate, the index of the object that matches it best
    (probabilities by softmax over the candidates, as CLIP classifies)."""
    logits = scores * scale
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return probs.argmax(axis=0) if scores.shape[1] > 1 else scores.argmax(axis=0)


class ClipSelector(ClipBackend):
    tool = "SELECT"

    def _decide(self, call, embeddings) -> Objects:
        queries = [q for q in (p.strip() for p in str(call["query"]).split(",")) if q]
        if not queries:
            raise ToolError(f"SELECT needs a query, e.g. query='dog'; got {call['query']!r}")
        scores = self.text_scores(embeddings, queries, call.get("category") or "")
        chosen = dict.fromkeys(int(i) for i in _best_per_candidate(scores, self.logit_scale))
        objects = call["object"]
        return objects.with_items(objects[i].evolve(score=float(scores[i].max())) for i in chosen)


class ClipClassifier(ClipBackend):
    tool = "CLASSIFY"

    def _decide(self, call, embeddings) -> Objects:
        categories = call["categories"]
        if isinstance(categories, str):
            categories = categories.split(",")
        categories = [str(c).strip() for c in categories if str(c).strip()]
        if not categories:
            raise ToolError(f"CLASSIFY needs categories, e.g. categories=['cat','dog']; got {call['categories']!r}")
        scores = self.text_scores(embeddings, categories)
        best = _best_per_candidate(scores, self.logit_scale)
        objects = call["object"]
        return objects.with_items(objects[int(i)].evolve(category=self.describes(c)[0])
                                  for c, i in zip(categories, best))
