"""The curated program library: every example parses and checks, task lists agree with programs, and the
loader reports malformed lines with their file and line."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from loupe.programs.checker import check
from loupe.programs.examples_library import LIBRARY_DIR, Example, LibraryError, load_library
from loupe.programs.tasks import parse_tasks

REQUIRED_KINDS = ("existence", "counting", "compositional", "spatial", "two_image", "faces", "ocr", "colorpop",
                  "bgblur", "blur", "emoji", "replace", "tagging", "scripts")
ROOT = Path(__file__).resolve().parents[2]
BENCH_CANDIDATES = (ROOT / "shared" / "bench" / "questions.jsonl", ROOT.parent / "shared" / "bench" / "questions.jsonl")

EXAMPLES = load_library()


def _ids(examples):
    return [e.id for e in examples]


@pytest.mark.parametrize("example", EXAMPLES, ids=_ids(EXAMPLES))
def test_every_program_parses_and_checks(example: Example, registry):
    check(example.parsed_program(), registry)


WITH_TASKS = [e for e in EXAMPLES if e.tasks is not None]


@pytest.mark.parametrize("example", WITH_TASKS, ids=_ids(WITH_TASKS))
def test_every_task_list_checks_and_uses_the_same_tools_in_order(example: Example, registry):
    from_tasks = parse_tasks(example.tasks, registry.names())
    check(from_tasks, registry)
    assert [s.module for s in from_tasks.steps] == [s.module for s in example.parsed_program().steps]


def test_enough_examples_with_unique_ids_and_every_kind():
    assert len(EXAMPLES) >= 40
    assert len(set(_ids(EXAMPLES))) == len(EXAMPLES)
    kinds = {e.kind for e in EXAMPLES}
    assert not set(REQUIRED_KINDS) - kinds, f"missing kinds: {set(REQUIRED_KINDS) - kinds}"
    assert len(WITH_TASKS) >= 15


def test_two_image_examples_read_left_and_right():
    for example in (e for e in EXAMPLES if e.kind == "two_image"):
        read = {ref.name for step in example.parsed_program().steps for ref in step.refs()}
        assert "IMAGE" not in read, example.id
        assert read & {"LEFT", "RIGHT"}, example.id


def test_kind_specific_modules_are_used():
    needs = {"faces": "FACEDET", "ocr": "OCR", "colorpop": "COLORPOP", "bgblur": "BGBLUR", "blur": "BLUR",
             "emoji": "EMOJI", "replace": "REPLACE", "tagging": "TAG", "counting": "COUNT"}
    for example in EXAMPLES:
        if example.kind in needs:
            modules = {s.module for s in example.parsed_program().steps}
            assert needs[example.kind] in modules, example.id
    knowledge = [e for e in EXAMPLES if {"LIST", "CLASSIFY", "TAG"} <= {s.module for s in e.parsed_program().steps}]
    assert knowledge, "no knowledge-tagging example with LIST + CLASSIFY + TAG"


def test_spatial_examples_cover_every_directional_crop():
    modules = {s.module for e in EXAMPLES if e.kind == "spatial" for s in e.parsed_program().steps}
    assert {"CROP_LEFTOF", "CROP_RIGHTOF", "CROP_ABOVE", "CROP_BELOW"} <= modules


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_library_does_not_contain_benchmark_queries():
    bench = next((p for p in BENCH_CANDIDATES if p.is_file()), None)
    if bench is None:
        pytest.skip("the shared benchmark is not next to this checkout")
    queries = {_normal(json.loads(line)["query"]) for line in bench.read_text().splitlines() if line.strip()}
    for example in EXAMPLES:
        assert _normal(example.instruction) not in queries, example.id
        words = set(_normal(example.instruction).split())
        for query in queries:
            other = set(query.split())
            assert len(words & other) / len(words | other) < 0.8, (example.id, query)


def test_examples_are_frozen_and_expose_their_task_list():
    example = next(e for e in EXAMPLES if e.tasks is not None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.id = "other"
    assert isinstance(example.task_list(), list)


def test_library_files_hold_one_kind_each():
    for path in sorted(LIBRARY_DIR.glob("*.jsonl")):
        kinds = {json.loads(line)["kind"] for line in path.read_text().splitlines() if line.strip()}
        assert kinds == {path.stem}


# ---- the loader's errors -------------------------------------------------------------------------

GOOD = {"id": "count-cats", "instruction": "How many cats?", "kind": "counting",
        "program": "BOX0=LOC(image=IMAGE,object='cat')\nANSWER0=COUNT(box=BOX0)\nFINAL_RESULT=RESULT(var=ANSWER0)\n"}


def _write(folder: Path, name: str, *lines) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines))


def test_a_good_file_loads(tmp_path):
    _write(tmp_path, "counting.jsonl", GOOD, "", {**GOOD, "id": "count-dogs", "tasks": [{"task": "LOC", "id": 0}]})
    examples = load_library(tmp_path)
    assert [e.id for e in examples] == ["count-cats", "count-dogs"]
    assert examples[0].tasks is None and json.loads(examples[1].tasks) == [{"task": "LOC", "id": 0}]


@pytest.mark.parametrize("line, expected", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({k: v for k, v in GOOD.items() if k != "program"}, "missing key(s) program"),
    ({**GOOD, "extra": 1}, "unknown key(s) extra"),
    ({**GOOD, "instruction": "  "}, "'instruction' must be non-empty text"),
    ({**GOOD, "id": "Has Spaces"}, "must be lowercase letters"),
    ({**GOOD, "kind": "existence"}, "does not match the file"),
    ({**GOOD, "program": "BOX0=LOC(image=IMAGE,object='cat'"}, "the program does not parse"),
    ({**GOOD, "tasks": []}, "'tasks' must be a non-empty list"),
])
def test_malformed_lines_name_file_line_and_problem(tmp_path, line, expected):
    _write(tmp_path, "counting.jsonl", GOOD, line)
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("counting.jsonl:2: ")
    assert expected in caught.value.problems[0]


def test_duplicate_ids_across_files_and_every_problem_at_once(tmp_path):
    _write(tmp_path, "counting.jsonl", GOOD, "{bad")
    _write(tmp_path, "existence.jsonl", {**GOOD, "kind": "existence"})
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    problems = caught.value.problems
    assert len(problems) == 2
    assert "duplicate id 'count-cats' (first at counting.jsonl:1)" in problems[1]


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(LibraryError, match="no \\*.jsonl files"):
        load_library(tmp_path)
