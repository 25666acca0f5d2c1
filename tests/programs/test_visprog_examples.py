"""VisProg's published example programs (tests/programs/data/visprog_examples.txt, rewritten from its prompts,
sources named there): each checks, or reports the published program's bug with its hint; those whose modules
the lite tier has run on a test photo and give the answer the photo shows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

import numpy as np
import pytest

from loupe.programs.checker import check
from loupe.programs.errors import ProgramError
from loupe.programs.images import load_image
from loupe.programs.interpreter import Interpreter
from loupe.programs.ir import MODULE_ALIASES
from loupe.programs.parser import parse_program

DATA = Path(__file__).parent / "data" / "visprog_examples.txt"
PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"


@dataclass(frozen=True)
class Example:
    name: str
    meta: dict
    program: str


def _examples() -> list[Example]:
    found = []
    for block in re.split(r"^=== ", DATA.read_text(encoding="utf-8"), flags=re.M)[1:]:
        lines = block.splitlines()
        meta = dict(line.split(": ", 1) for line in lines[1:] if re.match(r"^[a-z]+: ", line))
        program = "\n".join(line for line in lines[1:] if not re.match(r"^[a-z]+: ", line)).strip()
        found.append(Example(lines[0].strip(), meta, program))
    return found


EXAMPLES = _examples()
RUNNABLE = [e for e in EXAMPLES if "photo" in e.meta]


def test_the_fixture_names_a_source_for_each_example_and_covers_visprogs_modules():
    assert len(EXAMPLES) >= 25 and all(e.meta.get("source") for e in EXAMPLES)
    assert all("photo" in e.meta or "why" in e.meta or "error" in e.meta for e in EXAMPLES)
    written = {m for e in EXAMPLES for m in re.findall(r"=([A-Z_]+)\(", e.program)}
    assert set(MODULE_ALIASES) | {"LOC", "CROP", "CROP_LEFTOF", "CROP_RIGHTOF", "CROP_ABOVE", "CROP_BELOW", "COUNT",
                                  "VQA", "EVAL", "RESULT", "FACEDET", "SELECT", "EMOJI", "SEG", "COLORPOP",
                                  "BGBLUR", "REPLACE", "LIST", "CLASSIFY", "TAG"} <= written


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_each_example_checks_or_reports_its_published_bug(example, registry):
    if "error" not in example.meta:
        checked = check(parse_program(example.program), registry)
        assert checked.result_variable == checked.program.steps[-1].output
        return
    with pytest.raises(ProgramError) as caught:
        check(parse_program(example.program), registry)
    named = [d for d in caught.value.diagnostics if example.meta["error"] in d.message]
    assert named, caught.value
    assert example.meta.get("hint", "") in named[0].suggestion + named[0].message
    assert "CROP_BELOW" not in str(caught.value)


@pytest.fixture(scope="module")
def lite(registry):
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    return registry


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda e: e.name)
def test_each_example_with_lite_modules_runs_on_a_test_photo(example, lite):
    photos = [load_image(PHOTOS / name) for name in example.meta["photo"].split()]
    inputs = {"IMAGE": photos[0], "LEFT": photos[0], "RIGHT": photos[-1]}
    execution = Interpreter(lite).run(check(parse_program(example.program), lite).program, inputs)
    assert execution.ok, execution.errors
    if "answer" in example.meta:
        assert execution.answer == example.meta["answer"]
    elif execution.image is not None:  # an edit: the photo's size, other pixels
        assert execution.image.size == photos[0].size
        assert not np.array_equal(execution.image.pixels, photos[0].pixels)
    else:  # a colour read by the lite VQA
        assert re.fullmatch(r"[a-z]+", execution.answer) or execution.answer in ("yes", "no")
