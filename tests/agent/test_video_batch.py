"""``loupe batch`` over folders of videos and of videos with images: one row per file, real clips and models.

Needs the lite model pack (`loupe models pull`); skips without it."""

import csv
import json
from pathlib import Path
import shutil

import pytest

from fake_llm import FakeLLM
from loupe.programs.video_programs import load_video_library
from loupe.tools.settings import Settings

from loupe.agent.batch import run_batch

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = json.loads((DATA / "video" / "labels.json").read_text(encoding="utf-8"))
COUNT_PEOPLE = "BOX0=LOC(image=IMAGE,object='person')\nANSWER0=COUNT(box=BOX0)\nR=RESULT(var=ANSWER0)\n"


@pytest.fixture(scope="module")
def models():
    from loupe.tools.lite.pack import cache_dir, is_pulled

    if not is_pulled(cache_dir()):
        pytest.skip("lite model pack not installed; run `loupe models pull`")


def folder_of(tmp_path, *names, broken: bool = False) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        shutil.copy(DATA / ("photos" if name.endswith(".jpg") else "video") / name, folder / name)
    if broken:
        (folder / "broken.mp4").write_bytes(b"\x00not a video" * 100)
    return folder


def rows(out: Path) -> dict:
    with open(out / "results.csv", newline="", encoding="utf-8") as file:
        return {row["file"]: row for row in csv.DictReader(file)}


def test_an_instruction_over_a_mixed_folder_plans_once_for_the_images_and_reads_each_video(models, tmp_path):
    folder = folder_of(tmp_path, "pedestrians.mp4", "person.jpg", broken=True)
    llm = FakeLLM().enqueue(COUNT_PEOPLE)   # the images' one planning call; the videos need none
    summary = run_batch("How many people walk past?", folder, tmp_path / "out", llm=llm, chunk_size=2,
                        progress=False, settings=Settings.from_env())
    table = rows(tmp_path / "out")
    assert len(llm.prompts) == 1 and (summary["images"], summary["videos"], summary["ran"]) == (1, 2, 3)
    walkers = table["pedestrians.mp4"]
    assert walkers["status"] == "ok" and abs(int(walkers["answer"]) - LABELS["pedestrians.mp4"]["people"]) <= 1
    assert table["person.jpg"]["status"] == "ok" and int(table["person.jpg"]["answer"]) >= 1
    broken = table["broken.mp4"]
    assert broken["status"] == "failed" and "broken.mp4: not a readable video" in broken["errors"]


def test_a_video_edit_program_writes_each_video_and_refuses_the_images(models, tmp_path):
    program = tmp_path / "blur.txt"
    program.write_text(next(e.program for e in load_video_library() if e.id == "video-blur-faces"), encoding="utf-8")
    folder = folder_of(tmp_path, "megamind.mp4", "person.jpg")
    summary = run_batch(str(program), folder, tmp_path / "out", progress=False, settings=Settings.from_env())
    table = rows(tmp_path / "out")
    assert summary["ok"] == 1 and table["megamind.mp4"]["output"] == "megamind.mp4"
    from loupe.tools.video import probe

    written, source = probe(tmp_path / "out" / "megamind.mp4"), probe(folder / "megamind.mp4")
    assert (written.frame_count, written.fps) == (source.frame_count, source.fps)
    assert table["person.jpg"]["errors"] == "the program reads a video (VIDEO); person.jpg is an image"


def test_an_image_program_refuses_the_videos_in_their_rows(models, tmp_path):
    program = tmp_path / "count.txt"
    program.write_text(COUNT_PEOPLE, encoding="utf-8")
    folder = folder_of(tmp_path, "megamind.mp4", "person.jpg")
    run_batch(str(program), folder, tmp_path / "out", progress=False, settings=Settings.from_env())
    table = rows(tmp_path / "out")
    assert table["person.jpg"]["status"] == "ok"
    assert table["megamind.mp4"]["errors"] == "the program reads an image (IMAGE); megamind.mp4 is a video"


@pytest.mark.slow
def test_ray_over_a_folder_of_videos_matches_local(models, tmp_path):
    pytest.importorskip("ray")
    program = tmp_path / "count.txt"
    program.write_text(next(e.program for e in load_video_library() if e.id == "video-count-crossing-people"),
                       encoding="utf-8")
    folder = folder_of(tmp_path, "pedestrians.mp4", "pedestrians_later.mp4")
    answers = {}
    for engine in ("local", "ray"):
        run_batch(str(program), folder, tmp_path / engine, engine=engine, workers=2, chunk_size=1, progress=False,
                  settings=Settings.from_env())
        answers[engine] = {name: (row["status"], row["answer"]) for name, row in rows(tmp_path / engine).items()}
    assert answers["ray"] == answers["local"]
    assert {name: abs(int(answer) - LABELS[name]["people"]) <= 1 for name, (_, answer) in answers["ray"].items()} == \
        {"pedestrians.mp4": True, "pedestrians_later.mp4": True}
