"""The program cache: templates learned from successful programs, filled for queries of the same shape."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from loupe.agent.planning.program_cache import ProgramCache, default_cache_path, toolset_key
from loupe.programs.errors import ProgramError
from loupe.programs.parser import parse_program
from loupe.tools.registry import ToolRegistry, default_registry
from loupe.tools.settings import Settings

COUNT = "BOX0=LOC(image=IMAGE,object='horses')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n"
COLORPOP = ("OBJ0=SEG(image=IMAGE)\nOBJ1=SELECT(image=IMAGE,object=OBJ0,query='red bus',category=None)\n"
            "IMAGE0=COLORPOP(image=IMAGE,object=OBJ1)\nFINAL_RESULT=RESULT(var=IMAGE0)\n")
IN_TOP_HALF = ("BOX0=LOC(image=IMAGE,object='TOP')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\n"
               "BOX1=LOC(image=IMAGE0,object='lamp')\nANSWER0=COUNT(box=BOX1)\n"
               "ANSWER1=EVAL(expr=\"'yes' if {ANSWER0} > 0 else 'no'\")\nFINAL_RESULT=RESULT(var=ANSWER1)\n")


@pytest.fixture(scope="module")
def registry():
    return default_registry(Settings.from_env(), plugins=False)


@pytest.fixture
def cache(tmp_path, registry):
    with ProgramCache.for_registry(registry, tmp_path / "cache" / "programs.sqlite") as opened:
        yield opened


def _object_of(program_text: str, output: str = "BOX0"):
    return parse_program(program_text).step_defining(output).arg("object")


def test_a_learned_template_fills_a_new_object(cache):
    template_id = cache.store("How many horses are there?", COUNT)
    hit = cache.lookup("how many dogs are there?")
    assert hit is not None and hit.template_id == template_id and hit.slots == ("dogs",)
    assert _object_of(hit.program) == "dogs"
    assert [s.module for s in parse_program(hit.program).steps] == ["LOC", "COUNT", "RESULT"]


def test_normalisation_folds_case_punctuation_and_whitespace(cache):
    cache.store("How many horses are there?", COUNT)
    hit = cache.lookup("  HOW   many Cats, are there!! ")
    assert hit is not None and _object_of(hit.program) == "cats"


def test_a_hostile_slot_value_stays_a_string_literal(cache):
    cache.store("How many horses are there?", COUNT)
    hostile = "horses') + __import__('os"  # still one object named, like the learned query
    hit = cache.lookup(f"how many {hostile}') are there?")
    assert hit is not None
    program = parse_program(hit.program)
    assert [s.module for s in program.steps] == ["LOC", "COUNT", "RESULT"]
    assert program.steps[0].arg("object") == hostile
    assert isinstance(program.steps[0].arg("object"), str)


def test_line_breaks_and_quotes_in_a_slot_never_add_steps(cache):
    cache.store("How many horses are there?", COUNT)
    hit = cache.lookup("how many dogs\nBOX9=OCR(image=IMAGE) \"x\" are there")
    assert hit is None or len(parse_program(hit.program).steps) == 3
    if hit is not None:
        assert "\n" not in _object_of(hit.program)


def test_different_non_slot_words_do_not_match(cache):
    cache.store("How many horses are there?", COUNT)
    assert cache.lookup("how many dogs are here?") is None
    assert cache.lookup("are there many dogs") is None
    assert cache.lookup("how many are there") is None          # an empty slot
    assert cache.lookup("") is None


def test_a_slot_takes_a_few_more_words_but_not_a_sentence(cache):
    cache.store("How many horses are there?", COUNT)
    assert _object_of(cache.lookup("how many big brown dogs are there").program) == "big brown dogs"
    assert cache.lookup("how many dogs and cats and birds and fish are there") is None


def test_multi_word_literals_become_one_slot(cache):
    cache.store("Make the red bus pop in colour", COLORPOP)
    hit = cache.lookup("make the yellow taxi pop in colour")
    assert hit is not None and hit.slots == ("yellow taxi",)
    assert parse_program(hit.program).step_defining("OBJ1").arg("query") == "yellow taxi"


def test_keywords_and_words_used_by_eval_stay_fixed(cache):
    cache.store("Is there a lamp at the top?", IN_TOP_HALF)
    assert cache.lookup("is there a lamp at the bottom?") is None   # TOP is a LOC keyword, not a slot
    hit = cache.lookup("is there a clock at the top?")
    assert hit is not None and _object_of(hit.program, "BOX1") == "clock"
    assert _object_of(hit.program) == "TOP"


def test_a_query_that_is_all_literal_is_cached_exactly(cache):
    program = "ANSWER0=VQA(image=IMAGE,question='What colour is the bus?')\nFINAL_RESULT=RESULT(var=ANSWER0)\n"
    cache.store("What colour is the bus?", program)
    assert cache.lookup("what colour is the bus").program == program
    assert cache.lookup("what colour is the car") is None


def test_a_different_toolset_key_misses(tmp_path, registry):
    path = tmp_path / "cache.sqlite"
    with ProgramCache(path, "tools-v1", registry) as first:
        first.store("How many horses are there?", COUNT)
        assert first.lookup("how many dogs are there") is not None
    with ProgramCache(path, "tools-v2", registry) as second:
        assert second.lookup("how many dogs are there") is None
        assert len(second) == 0


def test_toolset_key_follows_the_registered_signatures(registry):
    assert toolset_key(registry) == toolset_key(default_registry(Settings.from_env(), plugins=False))
    fewer = ToolRegistry()
    for name in registry.names():
        if name != "OCR":
            fewer.register(registry.tool_class(name))
    assert toolset_key(fewer) != toolset_key(registry)


def test_templates_persist_across_instances(tmp_path, registry):
    path = tmp_path / "cache.sqlite"
    with ProgramCache.for_registry(registry, path) as first:
        template_id = first.store("How many horses are there?", COUNT)
    with ProgramCache.for_registry(registry, path) as second:
        hit = second.lookup("how many zebras are there")
        assert hit.template_id == template_id and _object_of(hit.program) == "zebras"


def test_a_filled_program_that_fails_the_check_is_not_reused(tmp_path, registry):
    no_loc = ToolRegistry()
    for name in registry.names():
        if name != "LOC":
            no_loc.register(registry.tool_class(name))
    with ProgramCache(tmp_path / "c.sqlite", "same-key", registry) as control:  # with LOC the same lookup hits
        control.store("How many horses are there?", COUNT)
        assert _object_of(control.lookup("how many dogs are there").program) == "dogs"
    with ProgramCache(tmp_path / "c.sqlite", "same-key", no_loc) as cache:
        assert len(cache) == 1 and cache.lookup("how many dogs are there") is None


def test_storing_again_replaces_the_template_and_clear_forgets(cache):
    first = cache.store("How many horses are there?", COUNT)
    again = cache.store("How many sheep are there?", COUNT.replace("horses", "sheep").replace("BOX0", "OBJ7"))
    assert again == first and len(cache) == 1
    assert "OBJ7" in cache.lookup("how many cows are there").program
    cache.clear()
    assert len(cache) == 0 and cache.lookup("how many cows are there") is None


def test_bad_input_to_store(cache):
    assert cache.store("?!", COUNT) is None
    with pytest.raises(ProgramError):
        cache.store("How many horses are there?", "BOX0=LOC(")


def test_schema_migrations_are_numbered_and_applied_once(tmp_path, registry):
    path = tmp_path / "c.sqlite"
    for _ in range(2):
        with ProgramCache.for_registry(registry, path) as cache:
            cache.store("How many horses are there?", COUNT)
    rows = sqlite3.connect(path).execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [v for (v,) in rows] == list(range(1, len(rows) + 1)) and rows


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path, registry):
    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    db.execute("INSERT INTO schema_migrations VALUES (99, 0)")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer than this Loupe knows"):
        ProgramCache.for_registry(registry, path).lookup("how many dogs are there")


def test_concurrent_stores_and_lookups(cache):
    errors = []

    def work(n: int):
        try:
            for i in range(10):
                cache.store(f"how many horses are there in pen {n} {i}", COUNT)
                hit = cache.lookup(f"how many cows are there in pen {n} {i}")
                assert hit is not None and _object_of(hit.program) == "cows"
        except Exception as error:  # collected: an assert in a thread does not fail the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cache) == 80


def test_default_path_is_in_the_loupe_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LOUPE_CACHE_DIR", str(tmp_path))
    assert default_cache_path() == tmp_path / "program_cache.sqlite"
    assert ProgramCache(None, "k").path == tmp_path / "program_cache.sqlite"
    assert not (tmp_path / "program_cache.sqlite").exists()   # nothing is created until first use


def test_an_empty_toolset_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="toolset_key"):
        ProgramCache(tmp_path / "c.sqlite", "")
