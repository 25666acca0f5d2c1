"""PICK_TEXT: which of OCR's lines answers a question (priors, the local model's scores, a chat model's pick)."""

import pytest

from programs.errors import ToolError
from programs.values import Obj, Objects
from tools.registry import default_registry
from tools.text_candidates import blocks, candidates, reading_order

SIZE = (400, 300)


def sign() -> Objects:
    """A street sign: a big street name, a two-line small-print block under it, a tiny mark on the right."""
    return Objects((
        Obj((60, 230, 260, 250), "text", 0.97, text="Open 9-5 daily"),
        Obj((50, 40, 330, 80), "text", 0.99, text="ELM STREET"),
        Obj((60, 255, 250, 275), "text", 0.95, text="No parking"),
        Obj((360, 120, 390, 130), "text", 0.7, text="x7"),
    ), SIZE)


class ScoringLLM:
    """A local-model stand-in: log-likelihood -1 per character, except the favourite."""

    scoring_method = "kv-cache"

    def __init__(self, favourite):
        self.favourite, self.prompts = favourite, []

    def score(self, prompt, continuations):
        self.prompts.append(prompt)
        return [0.0 if c.strip() == self.favourite else -float(len(c)) for c in continuations]


class ChoosingLLM:
    scoring_method = "multiple-choice"

    def __init__(self, reply):
        self.reply, self.prompts = reply, []

    def complete(self, prompt, **kwargs):
        self.prompts.append(prompt)
        return type("Reply", (), {"text": self.reply})()


def pick(lines, question, llm=None):
    registry = default_registry(plugins=False)
    if llm is not None:
        from tools.injected import LLM_KEY

        registry.context.provide(LLM_KEY, llm)
    return registry.tool("PICK_TEXT").execute(text=lines, question=question)


def test_reading_order_is_rows_top_down_then_left_to_right():
    row = Objects((Obj((200, 10, 260, 30), text="B"), Obj((10, 12, 80, 28), text="A"),
                   Obj((10, 60, 80, 80), text="C")), SIZE)
    assert [o.text for o in reading_order(row)] == ["A", "B", "C"]


def test_stacked_lines_form_a_block_and_words_are_candidates():
    groups = [[o.text for o in group] for group in blocks(sign())]
    assert ["Open 9-5 daily", "No parking"] in groups
    texts = [c.text for c in candidates(sign())]
    assert "Open 9-5 daily No parking" in texts and "ELM STREET" in texts and "STREET" in texts


def test_without_a_model_the_big_text_wins():
    assert pick(sign(), "Which street is this?") == "ELM STREET"


def test_position_words_move_the_choice():
    assert pick(sign(), "What does the small print at the bottom say?") == "Open 9-5 daily No parking"


def test_local_model_scores_each_candidate():
    llm = ScoringLLM("No parking")
    assert pick(sign(), "Can I park here?", llm) == "No parking"
    assert "ELM STREET" in llm.prompts[0] and "Question: Can I park here?" in llm.prompts[0]


def test_remote_model_chooses_from_the_numbered_list():
    llm = ChoosingLLM("")
    lines = sign()
    first = pick(lines, "When is it open?", llm)
    numbered = [line for line in llm.prompts[0].splitlines() if line[:1].isdigit()]
    wanted = next(i for i, line in enumerate(numbered, 1) if line.endswith(" Open 9-5 daily"))
    assert first == "ELM STREET"  # a reply naming no candidate leaves the prior's choice
    assert pick(lines, "When is it open?", ChoosingLLM(f"{wanted}.")) == "Open 9-5 daily"


def test_no_text_is_a_clear_error():
    with pytest.raises(ToolError, match="OCR read nothing"):
        pick(Objects((), SIZE), "Which street is this?")


def test_checker_rejects_an_empty_question():
    from programs.checker import check
    from programs.errors import ProgramError
    from programs.parser import parse_program

    program = parse_program("T=OCR(image=IMAGE)\nA=PICK_TEXT(text=T,question='  ')\nR=RESULT(var=A)")
    with pytest.raises(ProgramError, match="PICK_TEXT needs a question"):
        check(program, default_registry(plugins=False))
