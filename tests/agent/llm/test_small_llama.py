"""The plain-torch forward of the embedded SmolLM2 against transformers' ``LlamaForCausalLM`` on the real
converted weights: the same logits, with and without a KV cache and a tree mask; the same tokens and chat
prompt. (Skips like test_local.py where the model is not pulled.)"""

from __future__ import annotations

import pytest
from loupe.tools.settings import Settings

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from loupe.agent.llm import LLMError, make_llm
from loupe.agent.llm import small_llama
from loupe.agent.llm.token_tree import token_tree, tree_mask

try:
    from loupe.agent.llm.local import packaged_gguf

    packaged_gguf()
except LLMError as error:  # pragma: no cover - only without the model
    pytest.skip(str(error), allow_module_level=True)


@pytest.fixture(scope="module")
def folder():
    llm = make_llm("local", settings=Settings.from_env())
    return llm._folder()


@pytest.fixture(scope="module")
def models(folder):
    from transformers import AutoTokenizer, LlamaForCausalLM

    reference = LlamaForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32).eval()
    return (small_llama.SmallLlama(folder), small_llama.ChatTokenizer(folder),
            reference, AutoTokenizer.from_pretrained(folder, local_files_only=True))


def test_the_embedded_model_is_run_without_transformers(folder):
    assert small_llama.supports(folder)
    llm = make_llm("local", settings=Settings.from_env()).load()
    assert isinstance(llm._model_obj, small_llama.SmallLlama)


def test_tokens_and_chat_prompt_match_transformers(models):
    _, ours, _, theirs = models
    text = "BOX0=LOC(image=IMAGE,object='wine glass')\nHow many? <|im_end|> naïve café"
    assert ours.encode(text) == theirs.encode(text, add_special_tokens=False)
    ids = ours.encode(text)
    assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=True)
    messages = [{"role": "user", "content": "Count the cats."}]
    assert ours.apply_chat_template(messages) == theirs.apply_chat_template(
        messages, add_generation_prompt=True, tokenize=False)
    assert ours.eos_token_id == theirs.eos_token_id


def test_logits_match_with_a_cache_and_a_tree_mask(models):
    from transformers import DynamicCache

    ours, tok, reference, _ = models
    prompt = torch.tensor([tok.encode("Question: how many dogs are there?\nProgram:")])
    with torch.inference_mode():
        mine_cache, their_cache = small_llama.Cache(), DynamicCache()
        mine = ours(prompt, cache=mine_cache).logits
        theirs = reference(prompt, cache=their_cache, use_cache=True).logits
        assert torch.allclose(mine, theirs, atol=2e-3)
        # a token tree after the cached prompt: two continuations sharing their first token
        tokens, parents, _ = token_tree([tok.encode(" LOC dog; COUNT"), tok.encode(" LOC cat")])
        p, n = prompt.shape[1], len(tokens)
        mask, depth = tree_mask(torch, parents, p)
        positions = torch.tensor([[p + d for d in depth]])
        mine = ours(torch.tensor([tokens]), cache=mine_cache, attention_mask=mask[None, None],
                    position_ids=positions).logits
        theirs = reference(torch.tensor([tokens]), cache=their_cache, use_cache=True,
                           attention_mask=mask[None, None], position_ids=positions,
                           cache_position=torch.arange(p, p + n)).logits
        assert torch.allclose(mine, theirs, atol=2e-3)
        assert mine_cache.length() == p + n
        mine_cache.crop(p)
        assert mine_cache.length() == p
