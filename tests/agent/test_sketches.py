"""Sketches derived from library programs: typed holes, polarity, operators, numbers, answer types."""

from __future__ import annotations

import pytest

from loupe.agent.planning.query_facts import read_query
from loupe.agent.planning.sketch_fill import fillings
from loupe.agent.planning.sketches import derive, sketches_from
from loupe.programs.examples_library import load_library

BUT_NO = ("BOX0=LOC(image=IMAGE,object='dog')\nBOX1=LOC(image=IMAGE,object='cat')\nANSWER0=COUNT(box=BOX0)\n"
          "ANSWER1=COUNT(box=BOX1)\nANSWER2=EVAL(expr=\"'yes' if {ANSWER0} > 0 and {ANSWER1} == 0 else 'no'\")\n"
          "FINAL_RESULT=RESULT(var=ANSWER2)\n")
EACH = ("BOX0=LOC(image=LEFT,object='apple')\nBOX1=LOC(image=RIGHT,object='apple')\nANSWER0=COUNT(box=BOX0)\n"
        "ANSWER1=COUNT(box=BOX1)\nANSWER2=EVAL(expr=\"'yes' if {ANSWER0} == 3 and {ANSWER1} == 3 else 'no'\")\n"
        "FINAL_RESULT=RESULT(var=ANSWER2)\n")


def test_objects_become_holes_in_the_order_and_polarity_of_the_instruction():
    sketch = derive("Is there a dog but no cat?", BUT_NO)
    assert sketch.holes("object") == 2 and sketch.polarity == (False, True)
    assert sketch.answer_type == "yesno" and sketch.ops == () and sketch.numbers == 0
    assert "'dog'" not in sketch.key and "== 0" in sketch.key


def test_one_comparison_applied_to_both_images_is_one_number_and_one_operator():
    sketch = derive("Each of the photos shows exactly three apples.", EACH)
    assert (sketch.holes("object"), sketch.numbers, sketch.ops, sketch.two_images) == (1, 1, ("==",), True)


def test_filling_keeps_polarity_numbers_and_operators():
    sketch = derive("Each of the photos shows exactly three apples.", EACH)
    filled = list(fillings(sketch, read_query("Both pictures have at least two dogs.", True), True))
    assert len(filled) == 1
    expr = filled[0].program.steps[4].arg("expr")
    assert expr == "'yes' if {ANSWER0} >= 2 and {ANSWER1} >= 2 else 'no'"
    assert dict(filled[0].values)["object"] == ("dog",)
    but_no = derive("Is there a dog but no cat?", BUT_NO)
    assert list(fillings(but_no, read_query("Is there a cat but no dog?"), False))[0].values[0] == (
        "object", ("cat", "dog"))
    assert list(fillings(but_no, read_query("Is there no cat but a dog?"), False)) == []  # polarity differs
    assert list(fillings(but_no, read_query("Are there dogs and cats?"), False)) == []


def test_an_eval_text_that_names_the_object_names_the_object_filled_in():
    """A text the program writes ("(dogs: 3)") follows the object: filled for trucks, it says trucks' count."""
    program = ("TEXT0=CAPTION(image=IMAGE)\nBOX0=LOC(image=IMAGE,object='dog')\nANSWER0=COUNT(box=BOX0)\n"
               "ANSWER1=EVAL(expr=\"'{TEXT0} (dogs: {ANSWER0})' if {ANSWER0} > 0 else '{TEXT0}'\")\n"
               "FINAL_RESULT=RESULT(var=ANSWER1)\n")
    sketch = derive("Describe the photo and say how many dogs it shows.", program)
    filled = list(fillings(sketch, read_query("Describe the photo and say how many trucks it shows."), False))
    expr = next(s.arg("expr") for s in filled[0].program.steps if s.module == "EVAL")
    assert expr == "'{TEXT0} (truck: {ANSWER0})' if {ANSWER0} > 0 else '{TEXT0}'"


def test_every_library_example_has_a_sketch_and_equal_shapes_merge():
    library = load_library()
    sketches = sketches_from((e.instruction, e.program, e.id) for e in library)
    assert sum(len(s.ids) for s in sketches) == len(library)
    assert len(sketches) < len(library)   # e.g. the counting examples share one sketch
    counting = next(s for s in sketches if "count-sheep" in s.ids)
    assert "count-cups" in counting.ids and counting.answer_type == "number"


@pytest.mark.parametrize("instruction, program, kinds", [
    ("Put a heart-eyes emoji on the face of the woman on the right.",
     "OBJ0=FACEDET(image=IMAGE)\nOBJ1=SELECT(image=IMAGE,object=OBJ0,query='face on the right',category=None)\n"
     "IMAGE0=EMOJI(image=IMAGE,object=OBJ1,emoji='smiling_face_with_heart-eyes')\nFINAL_RESULT=RESULT(var=IMAGE0)",
     {"phrase": 1, "emoji": 1, "object": 0}),
    ("Swap the coffee mug for a teapot.",
     "OBJ0=SEG(image=IMAGE)\nOBJ1=SELECT(image=IMAGE,object=OBJ0,query='mug',category='cup')\n"
     "IMAGE0=REPLACE(image=IMAGE,object=OBJ1,prompt='a teapot')\nFINAL_RESULT=RESULT(var=IMAGE0)",
     {"phrase": 1, "category": 1, "prompt": 1}),
    ("What colour is the car on the left side of the picture?",
     "BOX0=LOC(image=IMAGE,object='LEFT')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\n"
     "ANSWER0=VQA(image=IMAGE0,question='What colour is the car?')\nFINAL_RESULT=RESULT(var=ANSWER0)",
     {"region": 1, "question": 1, "object": 0}),
])
def test_other_holes_are_typed(instruction, program, kinds):
    sketch = derive(instruction, program)
    assert {kind: sketch.holes(kind) for kind in kinds} == kinds


def test_a_text_answer_step_asks_the_users_question_not_the_examples():
    picked = ("BOX0=LOC(image=IMAGE,object='laptop')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\nTEXT0=OCR(image=IMAGE0)\n"
              "ANSWER0=PICK_TEXT(text=TEXT0,question='What brand name is printed on the laptop lid?')\n"
              "FINAL_RESULT=RESULT(var=ANSWER0)\n")
    sketch = derive("What brand name is printed on the laptop lid?", picked)
    assert sketch.holes("question") == 1 and sketch.answer_type == "text"
    filled = list(fillings(sketch, read_query("What word is painted on the side of the bus?"), False))
    assert filled and all(f.program.steps[3].arg("question") == "What word is painted on the side of the bus?"
                          for f in filled)
    assert dict(filled[0].values)["object"] == ("bus",)


@pytest.mark.parametrize("instruction, prompt", [
    ("Replace the sandwich with a bowl of salad.", "a bowl of salad"),
    ("Swap the bike by the dog for a scooter", "a scooter"),            # not 'the dog for a scooter'
    ("Turn the truck next to the tree into a fire engine.", "a fire engine"),
    ("Change the car at the corner to a bus", "a bus"),
    ("Remove the trash can from the picture.", None),
    ("Make the truck blue", "a blue truck"),  # a recolouring paints the object in its new colour
    ("Paint the red car green.", "a green car"),
    ("Change the colour of the bus to yellow", "a yellow bus"),
    ("Turn the bicycle into a red scooter", "a red scooter"),  # a new object, not a recolouring
])
def test_an_edit_paints_what_follows_the_last_connector(instruction, prompt):
    from loupe.agent.planning.query_facts import read_query
    from loupe.agent.planning.sketch_fill import _prompt

    assert _prompt(read_query(instruction)) == prompt


def test_a_sketch_is_a_program_with_typed_holes_that_the_checker_accepts():
    from loupe.programs.checker import check_sketch
    from loupe.programs.ir import Hole, Template
    from loupe.programs.values import ValueType
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings

    registry = default_registry(Settings.from_env(), plugins=False)
    sketch = derive("Each of the photos shows exactly three apples.", EACH)
    expr = sketch.program.steps[4].arg("expr")
    assert isinstance(expr, Template) and expr.holes == (Hole("op", 0), Hole("number", 0)) * 2  # one comparison, twice
    assert sketch.program.steps[0].arg("object") == Hole("object", 0)
    assert check_sketch(sketch.program, registry).holes[Hole("object", 0)] is ValueType.TEXT
    library = load_library()
    checked = sketches_from(((e.instruction, e.program, e.id) for e in library), registry)
    assert len(checked) == len(sketches_from((e.instruction, e.program, e.id) for e in library))
