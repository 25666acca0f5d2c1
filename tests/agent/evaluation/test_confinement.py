"""`loupe eval` keeps to its folders: item ids never write outside --out, image names never read outside
--images, and a refused name gets the same message whether or not the file exists."""

import json

import pytest

from loupe.agent.evaluation.bench import Item, file_stem, load_items
from loupe.agent.evaluation.harness import run_eval
from loupe.programs.errors import ImageError, ProgramError
from loupe.programs.images import confined_path
from loupe.tools.settings import Settings


def edit_item(item_id: str, image: str = "b.png") -> dict:
    return {"id": item_id, "image": image, "query": "Blur every face", "kind": "edit",
            "expect_tools": ["FACEDET", "BLUR"], "needs": ["face"]}


@pytest.mark.parametrize("item_id", ["../../x", "../escape", "/tmp/abs", "a/b", "..", ".hidden", "a\\..\\b"])
def test_an_id_with_path_parts_writes_inside_out(bench, tmp_path, item_id):
    questions, images, oracle = bench
    questions.write_text(json.dumps(edit_item(item_id)) + "\n")
    out = tmp_path / "deep" / "out"
    run_eval(questions, images, out, llm=oracle, registry="standins:registry", progress=False,
             settings=Settings.from_env())
    row = json.loads((out / "results.jsonl").read_text())
    assert row["id"] == item_id and row["correct"], row
    written = out / row["output_image"]
    assert written.is_file() and written.resolve().parent == (out / "images").resolve()
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "deep" / "escape.png").exists()


def test_file_stems_are_plain_names_and_never_collide():
    assert file_stem("q5") == "q5" and file_stem("item-3.b_c") == "item-3.b_c"
    stems = {file_stem(i) for i in ("../../x", "..__x", "x", "/x", "a/b", "a_b", "..", ".")}
    assert len(stems) == 8 and all("/" not in s and "\\" not in s and not s.startswith(".") for s in stems)


@pytest.mark.parametrize("image", ["../secret.png", "/etc/secret.png", "sub/../../secret.png", "C:\\secret.png",
                                   "..\\secret.png"])
def test_an_image_outside_images_is_refused_when_the_questions_load(tmp_path, image):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps(edit_item("q1", image)) + "\n")
    with pytest.raises(ProgramError, match="relative to --images") as error:
        load_items(questions)
    assert f"{questions}:1" in str(error.value)


def test_the_runner_itself_never_reads_outside_images(bench, tmp_path):
    from loupe.agent.evaluation.systems import EvalSpec, LoupeRunner

    questions, images, oracle = bench
    (tmp_path / "secret.png").write_bytes((images / "a.png").read_bytes())
    runner = LoupeRunner(EvalSpec(str(images), oracle, registry="standins:registry"))
    item = Item("q1", "Blur every face", "edit", ("../secret.png",))  # built directly: no load-time check
    with pytest.raises(ImageError, match="must be inside"):
        runner(item)


def test_refusals_do_not_tell_whether_the_file_exists(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (tmp_path / "exists.png").write_bytes(b"\x89PNG")
    messages = set()
    for name in ("exists.png", "missing.png"):
        with pytest.raises(ImageError) as error:
            confined_path(folder, "../" + name)
        messages.add(str(error.value).replace(name, "NAME"))
    assert len(messages) == 1


def test_a_symlink_leading_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (tmp_path / "secret.png").write_bytes(b"x")
    (folder / "link.png").symlink_to(tmp_path / "secret.png")
    (folder / "ok.png").write_bytes(b"x")
    assert confined_path(folder, "ok.png") == folder / "ok.png"
    assert confined_path(folder, "sub/./ok.png") == folder / "sub" / "ok.png"
    with pytest.raises(ImageError, match="must be inside"):
        confined_path(folder, "link.png")
