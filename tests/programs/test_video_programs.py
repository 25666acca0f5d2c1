"""Programs over videos: the checker's types, the video library, the task names and the values."""

import pytest

from loupe.programs.checker import DEFAULT_INPUTS, check
from loupe.programs.errors import ProgramError
from loupe.programs.ir import Ref
from loupe.programs.parser import parse_program
from loupe.programs.tasks import parse_tasks
from loupe.programs.values import ValueType, type_of
from loupe.programs.video_programs import VIDEO_INPUTS, load_video_library
from loupe.programs.video_values import Frames, FrameObjects, Track, Video


@pytest.fixture(scope="module")
def video_registry():
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings
    from loupe.tools.video_tools import register_video_tools

    registry = default_registry(Settings.from_env(), plugins=False)
    register_video_tools(registry)
    return registry


def checked(text, registry, inputs=VIDEO_INPUTS):
    return check(parse_program(text), registry, inputs)


COUNT_PEOPLE = """FRAMES0=FRAMES(video=VIDEO,fps=4)
BOX0=LOC_FRAMES(frames=FRAMES0,object='person')
TRACK0=TRACK(objects=BOX0)
ANSWER0=COUNT_TRACKS(tracks=TRACK0)
FINAL_RESULT=RESULT(var=ANSWER0)
"""


def test_a_counting_program_checks_with_its_types(video_registry):
    program = checked(COUNT_PEOPLE, video_registry)
    assert [program.types[n] for n in ("FRAMES0", "BOX0", "TRACK0", "ANSWER0")] == [
        ValueType.FRAMES, ValueType.FRAME_OBJECTS, ValueType.TRACKS, ValueType.NUMBER]
    assert program.inputs == ("VIDEO",)


def test_every_video_library_program_checks(video_registry):
    examples = load_video_library()
    assert {e.kind for e in examples} == {"video_counting", "video_edits", "video_time"}
    for example in examples:
        checked(example.program, video_registry)


def test_the_library_task_lists_read_as_the_same_programs(video_registry):
    for example in load_video_library():
        from_tasks = parse_tasks(example.tasks, video_registry.names())
        assert _literals(from_tasks) == _literals(example.parsed_program()), example.id
        assert from_tasks.steps[0].arg("video").name == "VIDEO"


def _literals(program):
    """Each step's module and literal arguments (variable names differ: task lists name them by task id)."""
    return [(s.module, tuple(a.value for a in s.args if not isinstance(a.value, Ref))) for s in program.steps]


@pytest.mark.parametrize("text, message", [
    ("BOX0=LOC_FRAMES(frames=VIDEO,object='dog')", "LOC_FRAMES argument frames must be Frames, but VIDEO is Video"),
    ("FRAMES0=FRAMES(video=VIDEO)\nBOX0=LOC(image=FRAMES0,object='dog')",
     "LOC argument image must be Image, but FRAMES0 is Frames"),
    ("FRAMES0=FRAMES(video=VIDEO)\nBOX0=LOC_FRAMES(frames=FRAMES0,object='dog')\nTRACK0=TRACK(objects=BOX0)\n"
     "ANSWER0=COUNT(box=TRACK0)", "COUNT argument box must be Objects, but TRACK0 is Tracks"),
    ("FRAMES0=FRAMES(video=VIDEO)\nBOX0=LOC_FRAMES(frames=FRAMES0,object='dog')\n"
     "ANSWER0=COUNT_FRAMES(objects=BOX0,at='middle')", "at must be one of start, end, max, mean; got 'middle'"),
    ("FRAMES0=FRAMES(video=VIDEO,fps='fast')", "FRAMES argument fps must be Number"),
])
def test_mistyped_video_programs_are_refused_with_the_reason(video_registry, text, message):
    with pytest.raises(ProgramError) as error:
        checked(text + "\nFINAL_RESULT=RESULT(var=VIDEO)", video_registry)
    assert message in str(error.value)


def test_an_image_is_no_video(video_registry):
    with pytest.raises(ProgramError, match="FRAMES argument video must be Video, but IMAGE is Image"):
        checked("FRAMES0=FRAMES(video=IMAGE)\nFINAL_RESULT=RESULT(var=FRAMES0)", video_registry,
                {**DEFAULT_INPUTS, **VIDEO_INPUTS})


def test_video_values_have_their_types():
    video = Video("clip.mp4", 640, 480, 10.0, 60, 6.0, "h264")
    assert type_of(video) is ValueType.VIDEO
    assert type_of(Frames(video, 2.0, lambda: iter(()))) is ValueType.FRAMES
    assert type_of(FrameObjects((), 2.0, 6.0)) is ValueType.FRAME_OBJECTS
    with pytest.raises(ValueError, match="positive"):
        Frames(video, 0, lambda: iter(()))
    with pytest.raises(ValueError, match="seen at least once"):
        Track(1, "dog", ())
