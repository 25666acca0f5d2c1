"""The harness end to end with stand-in tools and the oracle planner: files written, rows and summary."""

import json

import pytest
from PIL import Image as PILImage

from loupe.agent.evaluation import contact_sheet

from loupe.agent.evaluation.bench import load_items
from loupe.agent.evaluation.harness import run_eval
from loupe.programs.errors import ProgramError
from loupe.tools.settings import Settings


def test_results_summary_and_plot_are_written(bench, tmp_path):
    questions, images, oracle = bench
    out = tmp_path / "out"
    summary = run_eval(questions, images, out, llm=oracle, registry="standins:registry", progress=False,
                       settings=Settings.from_env())
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4", "q5"]
    assert [r["answer"] for r in rows[:4]] == ["1", "2", "yes", "yes"]
    assert all(r["correct"] for r in rows), [r for r in rows if not r["correct"]]
    first = rows[0]
    assert first["program"].startswith("BOX0=LOC(image=IMAGE,object='dog')") and first["llm_calls"] == 1
    assert first["prompt_tokens"] > 0 and [s["module"] for s in first["steps"]] == ["LOC", "COUNT", "RESULT"]
    assert all({"wall_ms", "started_ms", "batch", "status"} <= set(s) for s in first["steps"])
    assert rows[4]["output_image"] == "images/q5.png" and (out / "images" / "q5.png").exists()
    assert summary["accuracy"] == 1.0 and summary["valid_program_rate"] == 1.0
    assert summary["per_kind"] == {"answer": {"items": 4, "accuracy": 1.0}, "edit": {"items": 1, "accuracy": 1.0}}
    assert summary["per_needs"]["two_images"] == {"items": 1, "accuracy": 1.0}
    assert set(summary["latency_s"]) == {"p50", "p95", "mean"} and summary["throughput_items_per_s"] > 0
    assert json.loads((out / "summary.json").read_text())["items"] == 5
    assert "| loupe | 5 | 100.0% |" in (out / "summary.md").read_text()
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sheet = PILImage.open(out / "contact_sheet.png")  # one row: the edit q5, input and output side by side
    assert sheet.width > 2 * contact_sheet.THUMB[0] and contact_sheet.THUMB[1] < sheet.height < 2 * contact_sheet.THUMB[1]


def test_the_contact_sheet_shows_failed_edits_and_is_skipped_without_edits(bench, tmp_path):
    questions, images, oracle = bench
    programs = oracle.split(":", 1)[1]
    open(programs, "w").write(open(programs).read().replace("BLUR(image", "NOPE(image"))
    run_eval(questions, images, tmp_path / "out", llm=oracle, registry="standins:registry", progress=False,
             settings=Settings.from_env())
    assert (tmp_path / "out" / "contact_sheet.png").exists()  # q5 failed: its row says so, no output image
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(line + "\n" for line in open(questions).read().splitlines()[:2]))
    run_eval(answers, images, tmp_path / "answers", llm=oracle, registry="standins:registry", progress=False,
             settings=Settings.from_env())
    assert not (tmp_path / "answers" / "contact_sheet.png").exists()


def test_a_wrong_answer_and_an_invalid_program_are_scored(bench, tmp_path):
    questions, images, oracle = bench
    programs = oracle.split(":", 1)[1]
    lines = open(programs).read().replace("object='dog'", "object='cat'").replace("BLUR(image", "NOPE(image")
    open(programs, "w").write(lines)
    summary = run_eval(questions, images, tmp_path / "out", llm=oracle, registry="standins:registry", progress=False,
                       settings=Settings.from_env())
    rows = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "out" / "results.jsonl").open()}
    assert rows["q1"]["answer"] == "2" and not rows["q1"]["correct"]
    assert rows["q5"]["status"] == "invalid_program" and not rows["q5"]["valid_program"]
    assert summary["valid_program_rate"] == 0.8 and summary["accuracy"] == 0.6


def test_limit_and_bad_files(bench, tmp_path):
    questions, _, _ = bench
    assert [i.id for i in load_items(questions, limit=2)] == ["q1", "q2"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "query": "q", "kind": "answer", "image": "a.png"}\n')
    with pytest.raises(ProgramError, match="bad.jsonl:1: an answer item needs a non-empty 'answers' list"):
        load_items(bad)


def test_an_oracle_file_may_name_items_by_id_and_quote_the_question(tmp_path):
    from loupe.agent.evaluation.oracle import OracleLLM

    path = tmp_path / "programs.jsonl"
    path.write_text('{"id": "q1", "program": "ANSWER0=PICK_TEXT(text=TEXT0,question=\'{QUESTION}\')"}\n')
    oracle = OracleLLM.from_file(path, {"q1": "What's on Bob's sign?"})
    program = oracle.complete("Question: What's on Bob's sign?").text
    assert program == "ANSWER0=PICK_TEXT(text=TEXT0,question='What\\'s on Bob\\'s sign?')"
    assert OracleLLM.from_file(path).programs == {}  # without the benchmark's questions the id names nothing
