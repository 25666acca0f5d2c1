"""The embedded model's forward pass in plain PyTorch, so that a cold ``loupe ask`` does not import
transformers' modelling stack (about 5 s on the 2-core CPU, most of it modules a 135M Llama never uses).

It reads the folder ``LocalLM`` converts the GGUF into (``config.json``, ``model.safetensors``,
``tokenizer.json``, ``tokenizer_config.json``, ``chat_template.jinja``: the files transformers wrote) and
offers the part of transformers' interface that ``LocalLM`` calls: ``model(input_ids, cache=..., ...)``
returning ``.logits``, a ``DynamicCache``-like ``Cache``, and a tokenizer with ``encode`` / ``decode`` /
``apply_chat_template``. transformers stays the converter and the reference: the tests compare this
forward's logits with ``LlamaForCausalLM``'s on the real model. Only the Llama family as SmolLM2 uses it
is covered (``supports(folder)``): default RoPE, no biases, tied or untied output embeddings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F


def supports(folder: Path) -> bool:
    """Whether ``folder`` holds a model this module can run (else ``LocalLM`` uses transformers)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text())
    except (OSError, ValueError):
        return False
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    return (config.get("model_type") == "llama" and not config.get("attention_bias")
            and not config.get("mlp_bias") and rope.get("rope_type", "default") == "default"
            and (Path(folder) / "model.safetensors").is_file() and (Path(folder) / "tokenizer.json").is_file())


@dataclass
class _Layer:
    keys: object    # (batch, kv_heads, length, head_dim)
    values: object


class Cache:
    """Per-layer keys and values, grown by each forward (what ``transformers.DynamicCache`` does for LocalLM)."""

    def __init__(self, ddp_cache_data=None):
        self.layers = [_Layer(k, v) for k, v in ddp_cache_data or ()]

    def length(self) -> int:
        return self.layers[0].keys.shape[2] if self.layers else 0

    def update(self, index: int, keys, values):
        """Append this forward's ``keys``/``values`` to layer ``index``; the layer's whole keys and values."""
        if index == len(self.layers):
            self.layers.append(_Layer(keys, values))
        else:
            layer = self.layers[index]
            layer.keys = torch.cat([layer.keys, keys], dim=2)
            layer.values = torch.cat([layer.values, values], dim=2)
        return self.layers[index].keys, self.layers[index].values

    def crop(self, length: int) -> None:
        """Keep the first ``length`` positions (negative: drop the last ``-length``)."""
        for layer in self.layers:
            layer.keys, layer.values = layer.keys[:, :, :length], layer.values[:, :, :length]


class SmallLlama:
    """A Llama decoder (RMSNorm, rotary attention with grouped keys/values, SwiGLU) over the safetensors
    weights. ``__call__`` takes what LocalLM passes transformers' model and returns ``.logits``
    (batch, positions kept, vocab)."""

    def __init__(self, folder: Path):
        from safetensors.torch import load_file

        config = json.loads((Path(folder) / "config.json").read_text())
        self.config = SimpleNamespace(**config, _attn_implementation="sdpa")
        eos = json.loads((Path(folder) / "generation_config.json").read_text()).get("eos_token_id") \
            if (Path(folder) / "generation_config.json").is_file() else config.get("eos_token_id")
        self.generation_config = SimpleNamespace(eos_token_id=eos)
        self.weights = load_file(str(Path(folder) / "model.safetensors"))
        self.layers = config["num_hidden_layers"]
        self.heads, self.kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.heads
        self.eps = config["rms_norm_eps"]
        theta = (config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta", 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        self.embed = self.weights["model.embed_tokens.weight"]
        self.head = self.weights.get("lm_head.weight", self.embed)

    def forward(self, input_ids, cache: Cache | None = None, use_cache: bool = True, logits_to_keep: int = 0,
                attention_mask=None, position_ids=None, cache_position=None):
        """``input_ids`` (batch, n); ``attention_mask`` None (causal) or a boolean / additive
        (batch or 1, 1, n, past + n) mask; ``position_ids`` (batch or 1, n), default past + 0..n-1."""
        cache = cache if cache is not None else Cache()
        past, n = cache.length(), input_ids.shape[1]
        if position_ids is None:
            position_ids = torch.arange(past, past + n)[None]
        if attention_mask is None:
            attention_mask = torch.ones((n, past + n), dtype=torch.bool).tril(past)[None, None]
        elif attention_mask.dtype != torch.bool:
            attention_mask = attention_mask == 0
        angles = position_ids[..., None].float() * self.inv_freq
        angles = torch.cat([angles, angles], -1)[:, None]
        cos, sin = angles.cos(), angles.sin()
        x = self.embed[input_ids]
        for index in range(self.layers):
            x = x + self._attention(index, self._norm(x, f"model.layers.{index}.input_layernorm.weight"),
                                    cache, cos, sin, attention_mask)
            x = x + self._mlp(index, self._norm(x, f"model.layers.{index}.post_attention_layernorm.weight"))
        x = self._norm(x, "model.norm.weight")
        if logits_to_keep:
            x = x[:, -logits_to_keep:]
        return SimpleNamespace(logits=x @ self.head.T)

    __call__ = forward

    def _norm(self, x, name: str):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weights[name]

    def _attention(self, index: int, x, cache: Cache, cos, sin, mask):
        w = self.weights
        prefix = f"model.layers.{index}.self_attn."
        batch, n, _ = x.shape
        q = (x @ w[prefix + "q_proj.weight"].T).view(batch, n, self.heads, self.head_dim).transpose(1, 2)
        k = (x @ w[prefix + "k_proj.weight"].T).view(batch, n, self.kv_heads, self.head_dim).transpose(1, 2)
        v = (x @ w[prefix + "v_proj.weight"].T).view(batch, n, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
        keys, values = cache.update(index, k, v)
        if keys.shape[0] != batch:   # a cache shared by a batch of continuations (expanded views)
            keys, values = keys.expand(batch, -1, -1, -1), values.expand(batch, -1, -1, -1)
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, enable_gqa=True)
        return out.transpose(1, 2).reshape(batch, n, -1) @ w[prefix + "o_proj.weight"].T

    def _mlp(self, index: int, x):
        w = self.weights
        prefix = f"model.layers.{index}.mlp."
        return (F.silu(x @ w[prefix + "gate_proj.weight"].T) * (x @ w[prefix + "up_proj.weight"].T)) \
            @ w[prefix + "down_proj.weight"].T


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class ChatTokenizer:
    """The converted folder's tokenizer through the ``tokenizers`` library, and its chat template rendered
    with Jinja in a sandbox (as transformers renders it)."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = json.loads((folder / "tokenizer_config.json").read_text()) \
            if (folder / "tokenizer_config.json").is_file() else {}
        eos = config.get("eos_token")
        self.eos_token_id = self._tokenizer.token_to_id(eos) if isinstance(eos, str) else None
        template = folder / "chat_template.jinja"
        self._template = template.read_text() if template.is_file() else config.get("chat_template")

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def apply_chat_template(self, messages, add_generation_prompt: bool = True, tokenize: bool = False) -> str:
        if tokenize:
            raise ValueError("apply_chat_template here renders text; encode it with encode()")
        if not self._template:
            raise ValueError("this model folder has no chat template")
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        return environment.from_string(self._template).render(messages=messages,
                                                              add_generation_prompt=add_generation_prompt)
