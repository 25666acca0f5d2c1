"""The lite tier's accuracy test: tests/data/bench (15 hand-checked questions and edits on the repository's real
photos) run end to end by `loupe eval` with the correct programs (tests/data/bench/programs.jsonl, through the
oracle planner), so what is measured is perception and execution, not planning. Every item's own outcome is
asserted; the lite tier's known misses are strict xfails (they fail the run the day they start passing)."""

import json
from pathlib import Path

import pytest

from loupe.agent.evaluation.bench import load_items
from loupe.agent.evaluation.harness import run_eval
from loupe.tools.settings import Settings

DATA = Path(__file__).resolve().parents[2] / "data"
QUESTIONS, PROGRAMS, PHOTOS = DATA / "bench" / "questions.jsonl", DATA / "bench" / "programs.jsonl", DATA / "photos"
# the horse in person.jpg, labelled 'sheep' first, is found by its second guess; t03: the man half hidden
# behind the woman in front of him at the family dinner is not found (7 of the 8 people)
KNOWN_MISSES: set[str] = {"t03"}
ITEMS = load_items(QUESTIONS)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from loupe.tools.lite.pack import is_pulled

    if not is_pulled():
        pytest.skip("lite model pack not installed; run `loupe models pull`")
    out = tmp_path_factory.mktemp("lite-bench")
    summary = run_eval(QUESTIONS, PHOTOS, out, llm=f"oracle:{PROGRAMS}", progress=False, settings=Settings.from_env())
    rows = {row["id"]: row for row in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    return summary, rows, out


def test_every_item_ran_its_correct_program(results):
    summary, rows, _ = results
    assert sorted(rows) == sorted(item.id for item in ITEMS) and len(rows) == 15
    assert all(row["valid_program"] and row["llm_calls"] == 1 for row in rows.values())
    # partial: the right answer on evidence the calibration photos showed to be weak (issue 23), said so
    assert all(row["status"] in ("ok", "partial") for item_id, row in rows.items() if item_id not in KNOWN_MISSES)
    assert summary["accuracy"] == pytest.approx((15 - len(KNOWN_MISSES)) / 15, abs=1e-4)  # all but the known misses


@pytest.mark.parametrize("item", [pytest.param(i, id=i.id, marks=[pytest.mark.xfail(strict=True)] if i.id in KNOWN_MISSES else [])
                                  for i in ITEMS if i.kind == "answer"])
def test_answer(results, item):
    row = results[1][item.id]
    assert row["answer"] in item.answers and row["correct"], row["answer"]


@pytest.mark.parametrize("item", [pytest.param(i, id=i.id) for i in ITEMS if i.kind == "edit"])
def test_edit(results, item):
    _, rows, out = results
    row = rows[item.id]
    assert row["correct"], row["check"]
    assert [s["module"] for s in row["steps"]][-2] in item.expect_tools
    assert (out / row["output_image"]).is_file()
