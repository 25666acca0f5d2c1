"""Reading a question's facts for the ranking planner: mentions, polarity, numbers, comparisons, relations."""

from __future__ import annotations

import pytest

from loupe.agent.planning.query_facts import read_query, typed_shape


def _objects(query, two_images=False):
    return [(m.name, m.negated) for m in read_query(query, two_images).mentions if m.kind == "object"]


def test_negation_scope_makes_three_objects_with_their_polarity():
    assert _objects("Is there a dog but no cat or horse?") == [("dog", False), ("cat", True), ("horse", True)]
    assert _objects("Is there a cat here but neither a dog nor a bird?") == [
        ("cat", False), ("dog", True), ("bird", True)]


@pytest.mark.parametrize("query, names", [
    ("How many dogs and cats?", ["dog", "cat"]),
    ("Are there more sheep than cows?", ["sheep", "cow"]),
    ("Is there a bus or a truck?", ["bus", "truck"]),
])
def test_an_object_phrase_never_swallows_and_or_than(query, names):
    assert [name for name, _ in _objects(query)] == names


@pytest.mark.parametrize("phrase, name", [("kittens", "cat"), ("wine glasses", "wine glass"), ("telly", "tv"),
                                          ("puppies", "dog"), ("motorbikes", "motorcycle"), ("anyone", "person")])
def test_plurals_and_synonyms_map_onto_the_detector_vocabulary(phrase, name):
    assert _objects(f"Are there any {phrase} here?") == [(name, False)]


def test_a_described_person_keeps_the_description_for_select():
    mention = read_query("Blur the woman in the green coat").objects[0]
    assert mention.name == "person" and mention.phrase == "woman in the green coat"


def test_a_vocabulary_noun_before_an_unknown_noun_is_a_compound():
    facts = read_query("How many dog legs?")
    assert [(m.name, m.compound) for m in facts.mentions] == [("dog legs", True)]


def test_a_negation_that_covers_no_object_is_a_negated_predicate():
    assert read_query("How many dogs are not sleeping?").predicate_negation
    assert not read_query("Is there a dog but no cat?").predicate_negation


@pytest.mark.parametrize("query, numbers, ops", [
    ("Are there at least three chairs?", (3,), (">=",)),
    ("Are more than 12 people waiting?", (12,), (">",)),
    ("Are there fewer than two cars?", (2,), ("<",)),
    ("Are there exactly four apples?", (4,), ("==",)),
    ("Does the field hold more cows than sheep?", (), (">",)),
    ("Only one of the two images shows a horse.", (), ()),
    ("How many cups and plates are there in total?", (), ("+",)),
])
def test_numbers_in_words_or_digits_and_comparatives_in_order(query, numbers, ops):
    facts = read_query(query, two_images="images" in query)
    assert (facts.numbers, facts.ops) == (numbers, ops)


def test_relations_regions_and_image_sides():
    assert read_query("Is the kitten to the left of the telly?").relations == ("CROP_LEFTOF",)
    assert read_query("How many people are on the left half of the photo?").regions == ("LEFT",)
    assert read_query("The right photo shows more gulls than the left photo.", True).sides == ("RIGHT", "LEFT")


@pytest.mark.parametrize("near_miss", ["How many dogs are not sleeping?", "How many dogs and cats?",
                                       "How many dog legs?", "How many dogs or cats?"])
def test_near_misses_have_another_typed_shape(near_miss):
    assert typed_shape(near_miss) != typed_shape("How many dogs?")
    assert typed_shape("How many horses?") == typed_shape("How many dogs?")


@pytest.mark.parametrize("query, recolour", [
    ("Make the truck blue", ("blue", "truck")), ("Paint the red car green.", ("green", "car")),
    ("Change the colour of the bus to yellow", ("yellow", "bus")), ("Turn the umbrella pink", ("pink", "umbrella")),
    ("Make everything but the kite black and white", None),
    ("Turn the bicycle into a red scooter", None), ("Is the car red?", None), ("Blur the red car", None),
    ("Make the photo black and white", None), ("Make the dog happy", None)])
def test_a_recolouring_names_the_object_and_its_new_colour(query, recolour):
    """A colour after the object is what it should become; a colour before it only says which one."""
    assert read_query(query).recolour == recolour
    if recolour:
        assert [m.text for m in read_query(query).objects if m.name not in ("colour", "color")][0] == recolour[1]
