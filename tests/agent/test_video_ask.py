"""``loupe ask`` on a video, as a user meets it: real subprocesses, exit codes, one JSON object."""

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from loupe.programs.video_programs import load_video_library

DATA = Path(__file__).resolve().parents[1] / "data" / "video"
PEOPLE = json.loads((DATA / "labels.json").read_text(encoding="utf-8"))["pedestrians.mp4"]["people"]


def loupe(*args, typed=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "loupe.agent.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300, input=typed, cwd=cwd)


@pytest.fixture(scope="module")
def models():
    from loupe.tools.lite.pack import cache_dir, is_pulled

    if not is_pulled(cache_dir()):
        pytest.skip("lite model pack not installed; run `loupe models pull`")


def test_how_many_people_walk_past_with_per_track_times(models, tmp_path):
    page = tmp_path / "why.html"
    done = loupe("ask", str(DATA / "pedestrians.mp4"), "How many people walk past?", "--json", "--html", str(page))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "ok" and abs(int(result["answer"]) - PEOPLE) <= 1
    assert len(result["tracks"]) == int(result["answer"])
    assert all(0 <= t["first_s"] <= t["last_s"] <= 6 and t["label"] == "person" for t in result["tracks"])
    assert result["video"]["fps"] == 10 and result["sampled_fps"] == 4
    assert "TRACK(objects=BOX0)" in result["program"]
    html = page.read_text(encoding="utf-8")   # the strip of frames with track ids, the counts plot, the tracks
    assert html.count("<figure") == 8 and "<polyline" in html and html.count("<tr><td>") == len(result["tracks"])


def test_the_rate_can_be_set_and_a_time_is_answered_in_seconds(models):
    done = loupe("ask", str(DATA / "pedestrians.mp4"), "When does the first person appear?", "--fps", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 s"


def test_blurring_the_faces_writes_a_video_at_the_same_rate(models, tmp_path):
    target = tmp_path / "blurred.mp4"
    done = loupe("ask", str(DATA / "megamind.mp4"), "Blur every face", "--out", str(target), "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["edited_video"] == str(target)
    from loupe.tools.video import probe

    written, source = probe(target), probe(DATA / "megamind.mp4")
    assert (written.frame_count, written.width, written.fps) == (source.frame_count, source.width, source.fps)


def test_a_video_edit_not_approved_runs_nothing_and_says_so(models, tmp_path):
    target = tmp_path / "blurred.mp4"
    done = loupe("ask", str(DATA / "megamind.mp4"), "Blur every face", "--approve", "--out", str(target), typed="n\n")
    assert done.returncode == 2 and not target.exists()
    assert "The program edits the video (BLUR_FRAMES)" in done.stderr and "BLUR_FRAMES(video=VIDEO" in done.stderr
    assert "error: the edit was not approved" in done.stderr


def test_an_approved_colour_pop_takes_a_free_name_and_keeps_the_rate(models, tmp_path):
    (tmp_path / "edited.mp4").write_bytes(b"an earlier edit, kept")
    done = loupe("ask", str(DATA / "pedestrians.mp4"), "Colour splash the pedestrians",
                 "--approve", typed="y\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wrote edited-1.mp4" and "COLORPOP_FRAMES(video=VIDEO,tracks=TRACK0)" in done.stderr
    assert (tmp_path / "edited.mp4").read_bytes() == b"an earlier edit, kept"
    from loupe.tools.video import probe

    written, source = probe(tmp_path / "edited-1.mp4"), probe(DATA / "pedestrians.mp4")
    assert (written.frame_count, written.width, written.fps) == (source.frame_count, source.width, source.fps)


def test_something_never_seen_is_answered_never(models):
    done = loupe("ask", str(DATA / "megamind.mp4"), "When does the zebra appear?")
    assert done.returncode == 0 and done.stdout.strip() == "never: no zebra was seen in the 2.0 s video"


def test_an_object_the_detector_cannot_look_for_is_unsupported():
    done = loupe("ask", str(DATA / "megamind.mp4"), "When do the glasses appear?", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 3 and result["status"] == "unsupported"
    assert "cannot look for 'glasses'" in result["reason"]


def test_a_question_the_reading_does_not_cover_is_unsupported_with_the_reason():
    done = loupe("ask", str(DATA / "megamind.mp4"), "Describe the video.", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 3 and result["status"] == "unsupported"
    assert "count objects" in result["reason"] and result["answer"] is None


def test_a_corrupt_video_is_one_json_error_naming_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    done = loupe("ask", str(bad), "How many people walk past?", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 2 and result["status"] == "error"
    assert "broken.mp4: not a readable video" in result["errors"][0]


def test_a_bad_rate_is_refused_before_anything_runs():
    done = loupe("ask", str(DATA / "megamind.mp4"), "How many people walk past?", "--fps", "0")
    assert done.returncode == 2 and "--fps" in done.stderr


def test_options_a_video_cannot_use_yet_are_named_and_refused(tmp_path):
    done = loupe("ask", str(DATA / "megamind.mp4"), "How many people walk past?", "--out", str(tmp_path / "a.png"),
                 "--llm", "local", "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 2 and "--llm: not supported for videos yet" in result["errors"][0]
    assert not (tmp_path / "a.png").exists()
    done = loupe("ask", str(DATA / "megamind.mp4"), "Blur every face", "--out", str(tmp_path / "a.png"))
    assert done.returncode == 2 and "a.png: an edited video is written as .mp4" in done.stderr


COUNT_PROGRAM = next(e.program for e in load_video_library() if e.id == "video-count-crossing-people")


def test_check_accepts_a_video_program_and_names_its_input(tmp_path):
    program = tmp_path / "count.txt"
    program.write_text(COUNT_PROGRAM, encoding="utf-8")
    done = loupe("check", str(program))
    assert done.returncode == 0 and "reads VIDEO" in done.stdout
    program.write_text(COUNT_PROGRAM.replace("tracks=TRACK0", "tracks=BOX0"), encoding="utf-8")
    done = loupe("check", str(program))
    assert done.returncode == 2 and "COUNT_TRACKS argument tracks must be Tracks, but BOX0 is FrameObjects" in done.stderr


def test_run_takes_a_video_as_its_input(models, tmp_path):
    program = tmp_path / "count.txt"
    program.write_text(COUNT_PROGRAM, encoding="utf-8")
    done = loupe("run", str(program), "--image", str(DATA / "pedestrians.mp4"), "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and abs(result["answer"] - PEOPLE) <= 1
    assert [s["module"] for s in result["steps"]] == ["FRAMES", "LOC_FRAMES", "TRACK", "COUNT_TRACKS", "RESULT"]


def test_run_writes_an_edited_video_to_out_or_a_free_name_and_says_which(models, tmp_path):
    program = tmp_path / "blur.txt"
    program.write_text(next(e.program for e in load_video_library() if e.id == "video-blur-faces"), encoding="utf-8")
    target = tmp_path / "mine.mp4"
    done = loupe("run", str(program), "--image", str(DATA / "megamind.mp4"), "--out", str(target))
    assert done.returncode == 0 and done.stdout.strip() == f"wrote {target}" and target.exists()
    (tmp_path / "blur-result.mp4").write_bytes(b"kept")
    done = loupe("run", str(program), "--image", str(DATA / "megamind.mp4"), "--json")
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["image"] == str(tmp_path / "blur-result-1.mp4") and result["answer"] is None
    assert (tmp_path / "blur-result.mp4").read_bytes() == b"kept"
    from loupe.tools.video import probe

    assert probe(result["image"]).frame_count == probe(DATA / "megamind.mp4").frame_count
    done = loupe("run", str(program), "--image", str(DATA / "megamind.mp4"), "--out", str(tmp_path / "x.png"))
    assert done.returncode == 2 and "an edited video is written as .mp4" in done.stderr


def test_run_copies_a_video_a_program_returns_unedited_and_leaves_the_input(tmp_path):
    program = tmp_path / "same.txt"
    program.write_text("FINAL_RESULT=RESULT(var=VIDEO)\n", encoding="utf-8")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes((DATA / "megamind.mp4").read_bytes())
    done = loupe("run", str(program), "--image", str(clip), "--out", str(tmp_path / "copy.mp4"))
    assert done.returncode == 0, done.stderr
    assert clip.read_bytes() == (tmp_path / "copy.mp4").read_bytes() == (DATA / "megamind.mp4").read_bytes()
