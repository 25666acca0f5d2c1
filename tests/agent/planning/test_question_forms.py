"""Questions in the shapes people ask them plan their plain question's program (issue 22,
agent.planning.question_forms): negated existence ('there's no dog, right?' is 'is there a dog': answered by
the fact), numbers said or stated ('r there 3 cats' tests == 3), a wh-word last, colours asked in fragments or
said in clauses, counts compared in words, text asked as a noun, the question after a guess or a follow-up.
Wordings of our own over several objects; none is a benchmark question."""

from __future__ import annotations

import pytest

from loupe.agent.planning.reading import read_request
from loupe.programs.parser import parse_program
from tests.support.programs import up_to_the_question

OBJECTS = ("bird", "car", "umbrella")

# (everyday wording, plain wording): {o} an object, {c} a colour, {n} a number, {a}/{b} two objects
SAME = {
    "negated existence": [
        ("there's no {o}, right?", "Is there a {o}?"), ("are there no {o}s", "Are there {o}s?"),
        ("is there no {o}?", "Is there a {o}?"), ("no {o}s here right", "Are there {o}s?"),
        ("I can't see any {o}s", "Are there {o}s?"), ("i don't see a {o}", "Is there a {o}?"),
        ("there isn't a {o}, is there", "Is there a {o}?"), ("there's no {o} is there", "Is there a {o}?"),
        ("no {o} in this one, right?", "Is there a {o}?"), ("is there a {o}? I can't see one", "Is there a {o}?"),
        ("aren't there any {o}s?", "Are there {o}s?"), ("isn't there a {o}?", "Is there a {o}?"),
        ("I don't think there's a {o}", "Is there a {o}?"),
    ],
    "colour asked": [
        ("the {o} is what colour", "What colour is the {o}?"), ("what colour's the {o}", "What colour is the {o}?"),
        ("Tell me the {o}'s colour.", "What colour is the {o}?"), ("{o} colour?", "What colour is the {o}?"),
        ("whats the colour of the {o}", "What colour is the {o}?"),
        ("what colour is the {o} in this photo", "What colour is the {o}?"),
        ("the {o} is which colour?", "Which colour is the {o}?"), ("{o} color", "What colour is the {o}?"),
        ("color of the {o}?", "What colour is the {o}?"),
    ],
    "colour kept": [
        ("{o} {c}?", "Is the {o} {c}?"), ("is the {o} {c} by any chance?", "Is the {o} {c}?"),
        ("is the {o} {c}, not sure", "Is the {o} {c}?"), ("the {o} is {c}, is it?", "Is the {o} {c}?"),
        ("is there a {o} that is {c}", "Is there a {c} {o}?"), ("any {o}s which are {c}?", "Are there {c} {o}s?"),
        ("how many {o}s are {c}", "How many {c} {o}s are there?"),
        ("how many of the {o}s r {c}", "How many {c} {o}s are there?"),
    ],
    "numbers": [
        ("r there {n} {o}s", "Are there exactly {n} {o}s?"), ("{n} {o}s, correct?", "Are there exactly {n} {o}s?"),
        ("I count {n} {o}s here", "Are there exactly {n} {o}s?"), ("i can see {n} {o}s", "Are there exactly {n} {o}s?"),
        ("there's just the one {o}, right?", "Is there exactly one {o}?"),
        ("only the one {o} in it, yeah?", "Is there exactly one {o}?"),
        ("i think there are {n} {o}s? how many are there", "How many {o}s are there?"),
        ("I guess there's a {o}, how many are there?", "How many {o}s are there?"),
    ],
    "existence fragments and tags": [
        ("{o} present?", "Is there a {o}?"), ("any {o}s around?", "Are there {o}s?"), ("{o} visible?", "Is there a {o}?"),
        ("i'm pretty sure i see a {o}, is there one?", "Is there a {o}?"), ("there's a {o}, isn't there", "Is there a {o}?"),
        ("I believe there's a {c} {o}, am I right?", "Is there a {c} {o}?"),
    ],
    "colour choices": [
        ("the {o}, {c} or black?", "Is the {o} {c} or black?"), ("is the {o} {c} or is it black", "Is the {o} {c} or black?"),
        ("would you say the {o} is {c} or black", "Is the {o} {c} or black?"),
        ("is the {o} {c} or is it black, I can't tell", "Is the {o} {c} or black?"),
    ],
}
COMPARED = [
    ("same number of {a}s and {b}s?", "Are there as many {a}s as {b}s?"),
    ("equal amount of {a}s n {b}s", "Are there as many {a}s as {b}s?"),
    ("is the number of {a}s the same as the number of {b}s", "Are there as many {a}s as {b}s?"),
    ("the same amount of {a}s as {b}s?", "Are there as many {a}s as {b}s?"),
    ("is the number of {a}s bigger than the number of {b}s", "Are there more {a}s than {b}s?"),
    ("is the number of {a}s smaller than {b}s?", "Are there fewer {a}s than {b}s?"),
    ("is the count of {a}s greater than the count of {b}s", "Are there more {a}s than {b}s?"),
    ("is the amount of {a}s equal to the amount of {b}s", "Are there as many {a}s as {b}s?"),
]
PAIRS = (("cat", "dog"), ("car", "bus"), ("cup", "bottle"))
TEXT = [
    ("the number on the {o} is what?", "What is the number on the {o}?"),
    ("which number's on the {o}", "Which number is on the {o}?"),
    ("could you tell me the word on the {o}", "What is the word on the {o}?"),
    ("whats the phone no. on the {o}", "What is the phone number on the {o}?"),
    ("I need the phone number on the {o}", "What is the phone number on the {o}?"),
    ("is there writing on the {o}? if so what does it say", "What does it say?"),
]
TEXT_OBJECTS = ("bus", "truck", "car")


@pytest.fixture(scope="module")
def plan(ranked_program):
    return ranked_program


def _same(a: str, b: str) -> bool:
    """Equal programs, up to the question a VQA or PICK_TEXT step passes on (the request's own words)."""
    return up_to_the_question(a) == up_to_the_question(b)


def _cases():
    for kind, pairs in SAME.items():
        for everyday, plain in pairs:
            for o, c, n in zip(OBJECTS, ("red", "white", "blue"), ("2", "three", "4")):
                yield kind, everyday.format(o=o, c=c, n=n), plain.format(o=o, c=c, n=n)
    for everyday, plain in COMPARED:
        for a, b in PAIRS:
            yield "compared", everyday.format(a=a, b=b), plain.format(a=a, b=b)
    for everyday, plain in TEXT:
        for o in TEXT_OBJECTS:
            yield "text", everyday.format(o=o), plain.format(o=o)


@pytest.mark.parametrize("kind, everyday, plain", list(_cases()))
def test_a_question_form_plans_its_plain_question(plan, kind, everyday, plain):
    assert _same(plan(everyday), plan(plain)), (kind, everyday, plan(everyday), plan(plain))


@pytest.mark.parametrize("wording", ["there's no {o}, right?", "are there no {o}s", "I can't see any {o}s",
                                     "no {o}s here right"])
@pytest.mark.parametrize("obj", OBJECTS)
def test_a_negated_existence_question_is_answered_by_the_fact(plan, wording, obj):
    """'there's no dog, right?' -> 'no' when there is none: the count is tested > 0, as for 'is there a dog'."""
    query = wording.format(o=obj)
    reading = read_request(query)
    evals = [str(s.arg("expr")) for s in parse_program(plan(query)).steps if s.module == "EVAL"]
    assert reading.answer == "yesno" and evals == ["'yes' if {ANSWER0} > 0 else 'no'"], (query, plan(query))


@pytest.mark.parametrize("query", ["no one is in the picture, right?", "nobody is here, right?",
                                   "there are no people in this photo, right?"])
def test_nobody_asks_whether_anyone_is_there(plan, query):
    assert _same(plan(query), plan("Is there a person?")), (query, plan(query))


@pytest.mark.parametrize("query", ["is there a dog but no cat?", "are there cars and no buses", "no dogs but a cat?"])
def test_a_negation_of_one_object_among_others_stays(plan, query):
    """Only a denial of the whole question is read as its positive: 'a dog but no cat' still tests the cat == 0."""
    assert "== 0" in plan(query), (query, plan(query))


@pytest.mark.parametrize("query, number", [("r there 5 umbrellas", 5), ("seven cars, correct?", 7),
                                           ("I count 3 buses here", 3), ("there's just the one bottle, yeah?", 1)])
def test_a_number_said_is_tested_exactly(plan, query, number):
    evals = [str(s.arg("expr")) for s in parse_program(plan(query)).steps if s.module == "EVAL"]
    assert read_request(query).answer == "yesno" and evals and f"== {number}" in evals[-1], (query, plan(query))


@pytest.mark.parametrize("query", ["I want the umbrella green", "the bus red please", "make the car blue"])
def test_a_colour_wanted_is_still_an_edit(query):
    """A verbless 'the bus red' with no question mark may order; 'I want the umbrella green' does: neither is
    read as the question 'is the bus red'."""
    assert not read_request(query).clause.startswith("is "), (query, read_request(query))
