"""The ranking planner with a fake scorer: the right filled program wins, close contenders are scored in
one batched pass, generation is the fallback, and ``--planner auto`` picks ranking for the local model."""

from __future__ import annotations

import pytest

from loupe.agent.planning.rank_planner import RankPlanner, gist_of
from loupe.agent.planning.retrieval import ExampleRetriever
from loupe.agent.planning.planner import ranks_by_default
from loupe.programs.examples_library import load_library
from loupe.programs.parser import parse_program
from tests.support.fake_llm import FakeLLM
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings
from loupe.tools.install import pip_extra


@pytest.fixture(scope="module")
def registry():
    return default_registry(Settings.from_env(), plugins=False)


@pytest.fixture(scope="module")
def retriever():
    return ExampleRetriever(load_library())


def _planner(registry, retriever, llm=None, **options):
    return RankPlanner(llm or FakeLLM(), registry, retriever, **options)


def _locs(program_text):
    return [(s.arg("image").name, s.arg("object")) for s in parse_program(program_text).steps if s.module == "LOC"]


def _failed(line, output, module, error, refused=False, **args):
    """A failed step's record, as the agent graph's ``failed_steps`` carries it."""
    return {"line": line, "output": output, "module": module, "args": args, "refused": refused, "error": error}


def _expr(program_text):
    return next(s.arg("expr") for s in parse_program(program_text).steps if s.module == "EVAL")


@pytest.mark.parametrize("query, locs, expr", [
    ("Is there a dog but no cat or horse?", ["dog", "cat", "horse"],
     "'yes' if {ANSWER0} > 0 and {ANSWER1} == 0 and {ANSWER2} == 0 else 'no'"),
    ("Are there fewer kittens than puppies?", ["cat", "dog"], "'yes' if {ANSWER0} < {ANSWER1} else 'no'"),
    ("Are at least six wine glasses on the table?", ["wine glass"], "'yes' if {ANSWER0} >= 6 else 'no'"),
    ("How many trucks and buses are there altogether?", ["truck", "bus"], "{ANSWER0} + {ANSWER1}"),
    ("Is there a bicycle or a car next to the dog?", ["bicycle", "car", "dog"],
     "'yes' if ({ANSWER0} > 0 or {ANSWER1} > 0) and {ANSWER2} > 0 else 'no'"),
    ("Do I see a horse with a sheep or a cow near it?", ["horse", "sheep", "cow"],
     "'yes' if {ANSWER0} > 0 and ({ANSWER1} > 0 or {ANSWER2} > 0) else 'no'"),
    ("Is a bird or a kite in the sky?", ["bird", "kite"], "'yes' if {ANSWER0} > 0 or {ANSWER1} > 0 else 'no'"),
])
def test_the_right_filled_program_wins(registry, retriever, query, locs, expr):
    plan = _planner(registry, retriever).plan(query)
    assert plan.ok
    assert [name for _, name in _locs(plan.program_text)] == locs
    assert _expr(plan.program_text) == expr


def test_two_image_statements_keep_the_order_of_the_images(registry, retriever):
    plan = _planner(registry, retriever).plan("The right photo has more dogs than the left photo.", True)
    assert _locs(plan.program_text) == [("RIGHT", "dog"), ("LEFT", "dog")]
    assert _expr(plan.program_text) == "'yes' if {ANSWER0} > {ANSWER1} else 'no'"


def test_counting_and_edits_pick_their_tools(registry, retriever):
    planner = _planner(registry, retriever)
    assert [s.module for s in parse_program(planner.plan("How many faces are there?").program_text).steps] == [
        "FACEDET", "COUNT", "RESULT"]
    edit = planner.plan("Crop the photo to the giraffe").program_text
    assert [s.module for s in parse_program(edit).steps] == ["LOC", "CROP", "RESULT"]
    assert _locs(edit) == [("IMAGE", "giraffe")]


def test_close_contenders_are_scored_together_and_the_scorer_can_decide(registry, retriever):
    def prefers_or(prompt, continuation):
        return 0.0 if " or " in continuation else -50.0

    llm = FakeLLM(scorer=prefers_or)
    planner = _planner(registry, retriever, llm, lm_margin=100.0)
    ranked = planner.rank("Is there a bus and a truck?")
    scored = [r for r in ranked if r.lm_direct is not None]
    assert 2 <= len(scored) <= planner.lm_top
    assert llm.usage.calls == 2   # a model without score_split: the whole texts, then the heads
    assert ranked[0].lm_direct is not None and " or " in ranked[0].gist
    neutral = _planner(registry, retriever, FakeLLM(scorer=lambda p, c: -1.0), lm_margin=100.0)
    assert " and " in neutral.rank("Is there a bus and a truck?")[0].gist


def test_the_channel_prompt_puts_the_question_after_the_program(registry, retriever):
    seen = []
    llm = FakeLLM(scorer=lambda prompt, continuation: seen.append((prompt, continuation)) or -1.0)
    _planner(registry, retriever, llm, lm_margin=100.0).rank("Is there a cat?")
    channel = [c for _, c in seen if c.startswith("Program: ") and c.endswith("\nQuestion: Is there a cat?\n")]
    direct = [c for _, c in seen if c.startswith("Question: Is there a cat?\nProgram: ") and c.endswith("\n")
              and c.count("Program:") == 1 and len(c) > len("Question: Is there a cat?\nProgram: ")]
    assert channel and len(direct) == len(channel)


def test_generation_is_the_fallback_when_no_sketch_fits(registry, retriever):
    reply = "ANSWER0=VQA(image=IMAGE,question='Why is the sky blue?')\nFINAL_RESULT=RESULT(var=ANSWER0)"
    llm = FakeLLM().enqueue(reply)
    plan = _planner(registry, retriever, llm, threshold=100.0).plan("Why is the sky blue?")
    assert plan.ok and plan.program_text.strip() == reply and not llm.replies  # the generation call was made


def test_the_planner_kind_follows_the_model():
    from loupe.agent.llm.local import LocalLM

    assert ranks_by_default(LocalLM())
    assert not ranks_by_default(FakeLLM())


def test_filled_programs_are_checked_as_they_are_not_rendered_and_parsed_again(registry, retriever, monkeypatch):
    planner = _planner(registry, retriever)

    def parse(text):
        raise AssertionError("a filled program was parsed again")

    monkeypatch.setattr(planner, "parse", parse)
    monkeypatch.setattr("loupe.agent.planning.rank_replan.parse_program", parse)
    ranked = planner.rank("How many dogs are there?", lm=False)
    assert ranked and all(r.ir is not None and r.program == r.ir.source for r in ranked)
    assert parse_program(ranked[0].program) == ranked[0].ir   # the text, for the LM and callers, is the same program


def test_gist_is_short_and_keeps_the_literals():
    text = ("BOX0=LOC(image=LEFT,object='dog')\nANSWER0=COUNT(box=BOX0)\n"
            "ANSWER1=EVAL(expr=\"'yes' if {ANSWER0} > 2 else 'no'\")\nFINAL_RESULT=RESULT(var=ANSWER1)")
    assert gist_of(text) == "LOC LEFT dog; COUNT; EVAL yes if A > 2 else no"


def test_a_failed_ranked_program_is_replaced_by_the_next_close_candidate(registry, retriever):
    planner = _planner(registry, retriever, lm_margin=100.0)
    first = planner.draft("Is there a bus and a truck?")
    second = planner.redraft(first, ["a step failed"], "Is there a bus and a truck?")
    assert second.text != first.text and second.ranking and not second.reply
    generated = _planner(registry, retriever, FakeLLM().enqueue("FINAL_RESULT=RESULT(var=IMAGE)"), lm_margin=0.0)
    again = generated.redraft(first, ["a step failed"], "Is there a bus and a truck?")
    assert again.text == "FINAL_RESULT=RESULT(var=IMAGE)"   # nothing close: the model writes one


def _crop_found_nothing(registry, retriever, query: str, thing: str):
    """The planner, the query, its first ranked program (a LOC of ``thing`` and a CROP) and the CROP's failure."""
    planner = _planner(registry, retriever, lm_margin=0.0)
    first = planner.draft(query)
    assert f"object='{thing}'" in first.text and "CROP" in first.text
    failed = [_failed(2, "IMAGE0", "CROP", f"no {thing} found in photo.jpg; nothing to crop",
                      image={"ref": "IMAGE"}, box={"ref": "BOX0"})]
    return planner, query, first, failed


def test_a_replan_never_repeats_the_step_that_failed(registry, retriever):
    from loupe.agent.planning.rank_replan import Blame, blamed, repeats

    planner, query, first, failed = _crop_found_nothing(registry, retriever, "What does the label on the bottle say?",
                                                        "bottle")
    assert blamed(first.text, failed) == [Blame("LOC", (("object", "bottle"),))]  # the LOC, not the CROP
    second = planner.replan(first, failed, query)
    assert second.text and not repeats(parse_program(second.text), blamed(first.text, failed))
    assert blamed(first.text, []) == []   # no failed step's record: nothing is blamed
    assert blamed("TEXT0=OCR(image=IMAGE)\nFINAL_RESULT=RESULT(var=TEXT0)", [_failed(1, "TEXT0", "OCR", "x")]) == [
        Blame("OCR", ())]


def test_the_failed_step_is_found_by_its_record_not_by_reading_the_message(registry, retriever):
    """The record says which step failed (its output): a message naming no line, or another line, does not
    move the blame; the first failed step (by line) is the one blamed."""
    from loupe.agent.planning.rank_replan import Blame, blamed

    program = ("BOX0=LOC(image=IMAGE,object='bottle')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\n"
               "TEXT0=OCR(image=IMAGE0)\nFINAL_RESULT=RESULT(var=TEXT0)")
    crop = _failed(2, "IMAGE0", "CROP", "line 3 (TEXT0=OCR): no bottle found; nothing to crop")
    ocr = _failed(3, "TEXT0", "OCR", "no text")
    assert blamed(program, [ocr, crop]) == [Blame("LOC", (("object", "bottle"),))]
    assert blamed(program, [ocr]) == [Blame("CROP", ()), Blame("LOC", (("object", "bottle"),))]  # all it reads


SELECT_REFUSED = ("SELECT: the lite tier cannot judge the query {!r}: it understands COCO "
                  "object names (person, car, dog, ...), colour and position words ('red bus', 'left dog')")
CANNOT_PAINT = ("REPLACE: the lite tier cannot paint {!r}; it removes objects (prompt '' "
                "or 'nothing'); the GPU tier's Stable Diffusion inpainting paints any prompt: " + pip_extra("gpu"))


def _select_refused(phrase):
    return [_failed(2, "OBJ1", "SELECT", SELECT_REFUSED.format(phrase), refused=True, query=phrase)]


def _cannot_paint(prompt):
    return [_failed(3, "IMAGE0", "REPLACE", CANNOT_PAINT.format(prompt), refused=True, prompt=prompt)]


def _modules(text):
    return [s.module for s in parse_program(text).steps]


def test_a_refused_phrase_is_replanned_as_its_head_noun_in_the_same_sketch(registry, retriever):
    """The quoted phrase is blamed (not the SEG before it): the same SEG/SELECT/REPLACE sketch comes back
    with the head noun, before any other sketch, and the edit is kept."""
    planner = _planner(registry, retriever)
    query = "Turn the truck at the kerb into a fire engine."
    first = planner.draft(query)
    select = next(s for s in parse_program(first.text).steps if s.module == "SELECT")
    assert select.arg("query") == "truck at the kerb" and "REPLACE" in first.text
    second = planner.replan(first, _select_refused("truck at the kerb"), query)
    steps = parse_program(second.text).steps
    assert _modules(second.text) == _modules(first.text)
    assert steps[1].arg("query") == "truck" and steps[2].arg("prompt") == "a fire engine"


def test_an_edit_nothing_else_would_make_is_not_replanned(registry, retriever):
    """The lite REPLACE cannot paint the prompt: every other candidate that keeps the edit paints it too,
    and a program that does not replace (a crop, a tag) is no answer to the request: no replan."""
    planner = _planner(registry, retriever)
    query = "Turn the truck at the kerb into a fire engine."
    first = planner.replan(planner.draft(query), _select_refused("truck at the kerb"), query)
    assert planner.replan(first, _cannot_paint("a fire engine"), query) is None
    questions = planner.draft("What does the label on the bottle say?")   # not an edit: the next candidate
    assert planner.replan(questions, [_failed(1, "BOX0", "LOC", "'bottle' failed")],
                          "What does the label on the bottle say?")


def test_a_sub_phrase_with_another_literal_dropped_is_no_simplification():
    from loupe.agent.planning.rank_replan import blamed

    failed = ("OBJ0=SEG(image=IMAGE)\nOBJ1=SELECT(image=IMAGE,object=OBJ0,query='truck at the kerb',category='truck')"
              "\nFINAL_RESULT=RESULT(var=OBJ1)")
    blame, = blamed(failed, _select_refused("truck at the kerb"))
    step = parse_program("OBJ1=SELECT(image=IMAGE,object=IMAGE,query='truck at the kerb',category=None)").steps[0]
    assert blame.matches(step) and not blame.simpler_in(step)   # the refused phrase again, whatever the category
    step = parse_program("OBJ1=SELECT(image=IMAGE,object=IMAGE,query='truck',category=None)").steps[0]
    assert blame.simpler_in(step) and not blame.matches(step)


def _edits(program_text):
    return [(s.module, s.arg("prompt")) for s in parse_program(program_text).steps
            if s.module in ("REPLACE", "TAG", "CROP", "BLUR", "COLORPOP", "BGBLUR", "EMOJI")]


@pytest.mark.parametrize("query", ["Remove the dog", "Remove the bicycle from this photo", "Erase the bicycle",
                                   "Delete the truck", "Get rid of the car", "Take the dog out of the picture"])
def test_a_removal_is_a_removal(registry, retriever, query):
    """Whatever the verb, a removal is REPLACE with nothing, never cropping to the object, blurring or tagging
    it (which keep it); and the same program filled from several sketches keeps the best-fitting sketch's
    score (a removal once lost to a crop because a painting sketch had filled it first, scoring it worse)."""
    program = _planner(registry, retriever).plan(query).program_text
    assert _edits(program) == [("REPLACE", "nothing")]


def test_an_edit_the_tier_cannot_make_is_not_swapped_for_another_edit(registry, retriever):
    """Affordance chooses among programs making the same edits, never a different edit: asked to paint a
    cat where this tier cannot paint, the planner still plans the painting (refused at run time with its
    reason), not tagging the dog."""
    assert registry.tool("REPLACE").affordance({"prompt": "a cat"}) == 0.0  # the lite tier cannot paint
    program = _planner(registry, retriever).plan("Swap the dog by the bike for a cat").program_text
    assert _edits(program) == [("REPLACE", "a cat")]


@pytest.mark.parametrize("query, prompt", [("Make the truck blue", "a blue truck"), ("Turn the bicycle red", "a red bicycle"),
                                           ("Paint the car green", "a green car"),
                                           ("Change the colour of the bus to yellow", "a yellow bus")])
def test_a_recolouring_paints_the_object_in_its_new_colour(registry, retriever, query, prompt):
    """A recolouring is REPLACE with the object in its new colour (the lite tier recolours it), never a colour
    pop of 'truck blue', which keeps the truck as it was, nor a question whether there is a green car."""
    assert registry.tool("REPLACE").affordance({"prompt": prompt}) == 1.0  # the lite tier can recolour
    program = _planner(registry, retriever).plan(query).program_text
    assert _edits(program) == [("REPLACE", prompt)]


def test_a_thing_found_not_there_is_not_answered_about_by_a_program_without_it(registry, retriever):
    """'what colour is the giraffe?' with no giraffe found: no replan to the colour of the whole photo (nor to an
    edit); the failure ('no giraffe found') stands. A text question may still read the whole photo."""
    from loupe.agent.planning.rank_replan import absent, looks_for

    planner, query, first, failed = _crop_found_nothing(registry, retriever, "What colour is the giraffe?", "giraffe")
    assert absent(failed) == "giraffe"
    second = planner.replan(first, failed, query)
    assert second is None or looks_for(parse_program(second.text), "giraffe"), second and second.text
    assert absent([_failed(1, "BOX0", "LOC", "SELECT: the lite tier cannot judge the query 'x'")]) == ""
    assert looks_for(parse_program("OBJ0=FACEDET(image=IMAGE)\nFINAL_RESULT=RESULT(var=OBJ0)"), "faces")
