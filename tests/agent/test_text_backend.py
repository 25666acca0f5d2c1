"""PICK_TEXT: which of OCR's lines answers a question (priors, the local model's scores, a chat model's pick)."""

import pytest

from loupe.programs.errors import ToolError
from loupe.programs.values import Obj, Objects
from loupe.tools.registry import default_registry
from loupe.tools.text_candidates import blocks, candidates, reading_order
from loupe.tools.settings import Settings

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
    """A local-model stand-in: log-likelihood -1 per character whatever is asked (a small model's taste
    for short strings), and the favourite 5 nats likelier when the question is the one it answers."""

    scoring_method = "kv-cache"

    def __init__(self, favourite, question="Can I park here?"):
        self.favourite, self.question, self.prompts = favourite, question, []

    def score(self, prompt, continuations):
        self.prompts.append(prompt)
        asked = f"Question: {self.question}" in prompt
        return [-float(len(c)) + (5.0 if asked and c.strip() == self.favourite else 0.0) for c in continuations]


class ChoosingLLM:
    scoring_method = "multiple-choice"

    def __init__(self, reply):
        self.reply, self.prompts = reply, []

    def complete(self, prompt, **kwargs):
        self.prompts.append(prompt)
        return type("Reply", (), {"text": self.reply})()


def pick(lines, question, llm=None):
    registry = default_registry(Settings.from_env(), plugins=False)
    if llm is not None:
        from loupe.tools.injected import LLM_KEY

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


def tied_sign() -> Objects:
    """Two lines of the same size and confidence, side by side: the priors cannot tell them apart."""
    return Objects((Obj((20, 100, 180, 130), "text", 0.95, text="No parking"),
                    Obj((220, 100, 380, 130), "text", 0.95, text="Open 9-5 daily")), SIZE)


def test_by_default_the_embedded_model_leaves_the_choice_to_the_priors():
    llm = ScoringLLM("x7")
    assert pick(sign(), "Can I park here?", llm) == "ELM STREET" and llm.prompts == []


def test_tiebreak_lets_the_model_order_near_ties_by_what_the_question_adds():
    from loupe.agent.text_backend import pick as pick_with

    llm = ScoringLLM("Open 9-5 daily", question="When is it open?")
    assert pick_with(tied_sign(), "When is it open?", llm, "tiebreak").text == "Open 9-5 daily"
    asked = next(p for p in llm.prompts if "Question: When is it open?" in p)
    assert "No parking" in asked and any("Question: When is it open?" not in p for p in llm.prompts)
    assert pick_with(sign(), "Can I park here?", ScoringLLM("x7"), "tiebreak").text == "ELM STREET"


def test_every_scoring_is_measurable():
    from loupe.agent.text_backend import SCORINGS, pick as pick_with

    llm = ScoringLLM("Open 9-5 daily", question="When is it open?")
    found = {s: pick_with(tied_sign(), "When is it open?", llm, s).text for s in SCORINGS}
    assert found["prior"] in ("No parking", "Open 9-5 daily") and found["pmi"] == "Open 9-5 daily"
    assert set(found) == {"prior", "likelihood", "pmi", "tiebreak"} and found["tiebreak"] == "Open 9-5 daily"


def test_answer_shape_follows_the_question():
    from loupe.tools.text_candidates import shape

    assert shape("4:33", {"what", "time"}) > shape("EXIT", {"what", "time"})
    assert shape("K931", {"route", "number"}) > shape("GREEN", {"route", "number"})
    assert shape("20", {"word"}) < shape("Sunset", {"word"}) == 0


def test_a_name_and_its_small_print_are_separate_blocks():
    lines = Objects((Obj((40, 20, 240, 60), text="ABBEY"), Obj((40, 66, 300, 106), text="ROAD NW8"),
                     Obj((40, 112, 300, 127), text="CITY OF WESTMINSTER")), SIZE)
    assert [[o.text for o in group] for group in blocks(lines)] == [["ABBEY", "ROAD NW8"], ["CITY OF WESTMINSTER"]]
    assert pick(lines, "Which road is this?") == "ABBEY ROAD NW8"


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
    from loupe.programs.checker import check
    from loupe.programs.errors import ProgramError
    from loupe.programs.parser import parse_program

    program = parse_program("T=OCR(image=IMAGE)\nA=PICK_TEXT(text=T,question='  ')\nR=RESULT(var=A)")
    with pytest.raises(ProgramError, match="PICK_TEXT needs a question"):
        check(program, default_registry(Settings.from_env(), plugins=False))
