"""Follow-ups read against a conversation (agent.planning.references): each kind of reference resolved to
what the earlier turns hold, and each one that cannot be resolved asked about."""

import pytest

from loupe.agent.planning.reading import read_request
from loupe.agent.planning.references import BOTH, ELLIPSIS, IMAGE, OBJECTS, UNDO, Context, resolve, subject_of


def after(question: str, objects=(), **more) -> Context:
    reading = read_request(question)
    return Context(objects=tuple(objects), question=reading.words, subject=subject_of(reading), **more)


TWO = dict(images=("photo 1", "photo 2", "the edit of turn 2"), originals=(0, 1), current=2, previous=0)


@pytest.mark.parametrize("text, context, query, kind", [
    ("blur them", after("how many dogs are there?", ["dog"]), "blur the dogs", OBJECTS),
    ("now hide them too", after("is there a person?", ["person"]), "hide the people too", OBJECTS),
    ("are they sleeping?", after("how many cats are there?", ["cat"]), "are the cats sleeping", OBJECTS),
    ("blur it", after("is there a car?", ["car"]), "blur the car", OBJECTS),
    ("and cats?", after("how many dogs are there?", ["dog"]), "how many cats are there", ELLIPSIS),
    ("what about the horses?", after("is there a dog?", ["dog"]), "is there a horse", ELLIPSIS),
    ("and the other one?", after("what colour is the left car?", ["car"]), "what colour is the right car", ELLIPSIS),
    ("blur the other one", after("is the left dog asleep?", ["dog"]), "blur the right dog", OBJECTS),
    ("what about the right one?", after("what colour is the left car?", ["car"]), "what colour is the right car",
     ELLIPSIS),
])
def test_references_resolve_to_the_earlier_turns(text, context, query, kind):
    follow = resolve(text, context)
    assert not follow.unresolved
    assert follow.query == query
    assert kind in [r.kind for r in follow.references]
    assert follow.reading.text == text   # the reading keeps what was typed


def test_it_as_the_photo_is_no_reference_to_objects():
    follow = resolve("make it black and white", after("is there a car?", ["car"]))
    assert follow.query == "make it black and white" and follow.references == ()


@pytest.mark.parametrize("text, image, switch, query", [
    ("use the first photo again", 0, True, None),
    ("go back to the second photo", 1, True, None),
    ("count the dogs in the original", 0, False, "count the dogs"),
    ("how many people are in the second photo?", 1, False, "how many people"),
    ("blur the faces in the previous version", 0, False, "blur the faces"),
])
def test_earlier_images_are_named(text, image, switch, query):
    follow = resolve(text, Context(**TWO))
    assert (follow.image, follow.switch, follow.unresolved) == (image, switch, "")
    assert follow.references[0].kind == IMAGE and follow.references[0].image == image
    if query:
        assert follow.query == query


def test_undo_restores_the_previous_image():
    follow = resolve("undo", Context(**TWO))
    assert follow.undo and follow.image == 0 and follow.references[0].kind == UNDO


def test_a_statement_about_both_photos_is_read_as_one():
    follow = resolve("is there a dog in both photos?", Context(images=("photo 1", "photo 2"), originals=(0, 1)))
    assert follow.two_images and BOTH in [r.kind for r in follow.references]
    assert not resolve("is there a dog in both photos?", Context()).two_images   # one photo: no such statement
    two = Context(images=("photo 1", "photo 2"), originals=(0, 1))
    assert not resolve("are both dogs asleep?", two).two_images   # 'both' of the things in one photo


@pytest.mark.parametrize("text, words", [
    ("blur them", "'them'"),
    ("and cats?", "'cats'"),
    ("undo", "'undo'"),
    ("use the second photo", "'the second photo'"),
    ("the other one", "'the other one'"),
    ("what about the other photo?", "'the other photo'"),
])
def test_what_cannot_be_resolved_is_asked_never_guessed(text, words):
    follow = resolve(text, Context())
    assert follow.unresolved.startswith(f"which thing does {words} mean?")
    assert follow.unresolved == next(r.unresolved for r in follow.references if r.unresolved)


def test_requests_without_references_read_as_alone():
    for text in ("how many dogs are there?", "blur those faces", "describe it"):
        follow = resolve(text, after("is there a car?", ["car"]))
        assert follow.references == () and follow.reading == read_request(text)
