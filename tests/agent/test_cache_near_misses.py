"""Near misses: queries that share the words around a slot with a cached one but need another program
must never reuse it (issue 10 item 5, issue 11 item 5); their true shape-mates still do."""

from __future__ import annotations

import pytest

from loupe.agent.planning.program_cache import ProgramCache
from loupe.programs.examples_library import load_library
from loupe.programs.parser import parse_program
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

COUNT_DOGS = "BOX0=LOC(image=IMAGE,object='dogs')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n"


@pytest.fixture(scope="module")
def registry():
    return default_registry(Settings.from_env(), plugins=False)


@pytest.fixture
def cache(tmp_path, registry):
    with ProgramCache.for_registry(registry, tmp_path / "programs.sqlite") as opened:
        yield opened


@pytest.mark.parametrize("query", ["How many dogs are not sleeping?", "How many dogs and cats?",
                                   "How many dog legs?", "How many dogs or cats?", "How many dogs than cats?"])
def test_a_near_miss_of_how_many_dogs_is_not_answered_from_the_cache(cache, query):
    cache.store("How many dogs?", COUNT_DOGS)
    assert cache.lookup(query) is None


@pytest.mark.parametrize("query, object_name", [("How many cats?", "cats"), ("How many red buses?", "red buses"),
                                                ("how many wine glasses?", "wine glasses")])
def test_the_same_shape_with_another_object_still_reuses_the_program(cache, query, object_name):
    cache.store("How many dogs?", COUNT_DOGS)
    hit = cache.lookup(query)
    assert hit is not None
    assert parse_program(hit.program).step_defining("BOX0").arg("object") == object_name


def test_the_seeded_library_does_not_answer_a_three_object_negation(cache):
    library = load_library()
    cache.seed((e.instruction, e.program) for e in library if len(e.program.splitlines()) > 1)
    hit = cache.lookup("Is there a dog but no cat or horse?")
    if hit is not None:  # only a program that looks for all three, separately, may be reused
        objects = [s.arg("object") for s in parse_program(hit.program).steps if s.module == "LOC"]
        assert sorted(objects) == ["cat", "dog", "horse"]
    two = cache.lookup("Is there a horse but no zebra?")   # the two-object shape is still reused
    assert two is not None
    objects = [s.arg("object") for s in parse_program(two.program).steps if s.module == "LOC"]
    assert objects == ["horse", "zebra"] and "== 0" in two.program


def test_learned_programs_are_listed_with_their_queries(cache):
    cache.store("How many dogs?", COUNT_DOGS)
    assert cache.learned() == [("How many dogs?", COUNT_DOGS)]
