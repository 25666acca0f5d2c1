"""The planner's reading of questions about time in a video, and the programs it writes."""

import pytest

from loupe.agent.planning.time_words import TimeReading, read_time_question, video_program
from loupe.programs.render import render


@pytest.mark.parametrize("question, kind, thing", [
    ("How many people walk past?", "count_tracks", "person"),
    ("Count the cars that go by.", "count_tracks", "car"),
    ("How many dogs are there at the end?", "count_end", "dog"),
    ("How many people are in view at the beginning?", "count_start", "person"),
    ("What is the largest number of bicycles in view at once?", "count_max", "bicycle"),
    ("When does the first bus appear?", "first_seen", "bus"),
    ("When does the last person leave?", "last_seen", "person"),
    ("When does the cat disappear?", "last_seen", "cat"),
    ("How long is the horse in view?", "seen_for", "horse"),
])
def test_questions_about_time_are_read(question, kind, thing):
    reading = read_time_question(question)
    assert (reading.kind, reading.object) == (kind, thing)
    assert reading.purpose == ("track" if kind == "count_tracks" else "time")


@pytest.mark.parametrize("question", ["What colour is the car?", "When?", "Describe the video."])
def test_questions_without_an_object_or_a_time_are_not_read(question):
    assert read_time_question(question) is None


@pytest.mark.parametrize("request_, kind, thing", [
    ("Colour splash the dog", "colorpop", "dog"),
    ("Everything in black and white except the car", "colorpop", "car"),   # the car named is the one kept
    ("Bokeh behind the people", "bgblur", "person"),
    ("Blur the background, not the horse", "bgblur", "horse"),              # 'background' is no object
    ("Blur every face", "blur", "face"),
    ("When does the grey car appear?", "first_seen", "car"),                # a colour is no edit
])
def test_edits_that_keep_an_object_are_read_with_the_object_kept(request_, kind, thing):
    reading = read_time_question(request_)
    assert (reading.kind, reading.object, reading.purpose) == (kind, thing, "track" if kind != "first_seen" else "time")


def test_the_program_is_the_library_program_with_the_object_and_rate_put_in():
    program = video_program(TimeReading("count_end", "dog", "time"), 2.5)
    assert render(program) == ("FRAMES0=FRAMES(video=VIDEO,fps=2.5)\n"
                               "BOX0=LOC_FRAMES(frames=FRAMES0,object='dog')\n"
                               "ANSWER0=COUNT_FRAMES(objects=BOX0,at='end')\n"
                               "FINAL_RESULT=RESULT(var=ANSWER0)\n")
    assert [s.module for s in video_program(TimeReading("first_seen", "bus", "time"), 2).steps] == [
        "FRAMES", "LOC_FRAMES", "TRACK", "FIRST_SEEN", "RESULT"]
