import base64
import re

import numpy as np
import pytest

from loupe.programs.parser import parse_program
from loupe.agent.rationale import render_html, write_html
from loupe.programs.trace import Execution, Status, StepRecord
from loupe.programs.values import Image, Obj, Objects

PROGRAM = """BOX0=LOC(image=IMAGE,object='<b>tie</b>')
IMAGE0=CROP(image=IMAGE,box=BOX0)
ANSWER0=VQA(image=IMAGE0,question='What colour is the tie?')
FINAL_RESULT=RESULT(var=ANSWER0)
"""


@pytest.fixture
def photo():
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[10:30, 20:50] = (200, 30, 30)
    return Image(pixels, "photo.png")


def run_of(photo, answer_status=Status.OK):
    program = parse_program(PROGRAM)
    boxes = Objects((Obj((20, 10, 50, 30), "<script>alert(1)</script>", 0.87),), photo.size)
    crop = photo.crop((15, 5, 55, 35))
    answer_ok = answer_status is Status.OK
    records = (
        StepRecord(0, "BOX0", "LOC", 1, Status.OK, {"image": photo, "object": "<b>tie</b>"}, boxes,
                   wall_s=0.0123, backend="lite"),
        StepRecord(1, "IMAGE0", "CROP", 2, Status.OK, {"image": photo, "box": boxes}, crop,
                   wall_s=0.0004, backend="builtin"),
        StepRecord(2, "ANSWER0", "VQA", 3, answer_status, {"image": crop, "question": "What colour is the tie?"},
                   "red & <i>blue</i>" if answer_ok else None,
                   error="" if answer_ok else "VQA crashed: <out of memory>", wall_s=0.5, backend="lite"),
        StepRecord(3, "FINAL_RESULT", "RESULT", 4, Status.OK if answer_ok else Status.SKIPPED,
                   {"var": "red & <i>blue</i>"} if answer_ok else {},
                   "red & <i>blue</i>" if answer_ok else None,
                   error="" if answer_ok else "skipped: its input ANSWER0 failed"),
    )
    return Execution(program, records, records[3].value, {"IMAGE": photo}, wall_s=0.52)


def test_page_shows_every_step_with_line_call_status_time_and_backend(photo):
    page = render_html(run_of(photo))
    for line, call in enumerate(["BOX0=LOC(image=IMAGE,object=", "IMAGE0=CROP(image=IMAGE,box=BOX0)",
                                 "ANSWER0=VQA(image=IMAGE0,question=", "FINAL_RESULT=RESULT(var=ANSWER0)"], 1):
        assert f"line {line}" in page and call in page
    assert page.count('class="badge ok"') == 4
    assert "12.3 ms" in page and "lite" in page and "builtin" in page
    assert page.index("Result") < page.index("Program") < page.index("Steps")


def test_hostile_text_is_escaped_everywhere(photo):
    page = render_html(run_of(photo))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>tie</b>" not in page and "&lt;b&gt;tie&lt;/b&gt;" in page
    assert "<i>blue</i>" not in page and "red &amp; &lt;i&gt;blue&lt;/i&gt;" in page


def test_images_are_embedded_as_data_urls_and_nothing_external(photo):
    page = render_html(run_of(photo))
    sources = re.findall(r'src="([^"]+)"', page)
    assert sources and all(s.startswith("data:image/") for s in sources)
    assert "http://" not in page and "https://" not in page and "<link" not in page
    payload = sources[0].split(",", 1)[1]
    assert base64.b64decode(payload)[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")


def test_objects_are_drawn_on_the_steps_input_image_and_listed(photo):
    page = render_html(run_of(photo))
    loc_section = page[page.index('id="step-0"'):page.index('id="step-1"')]
    assert loc_section.count("<img") == 2            # the input image and the drawing of the boxes
    assert '<table class="objects">' in loc_section and "0.87" in loc_section
    assert "(20, 10, 50, 30)" in loc_section


def test_failures_and_skips_are_shown(photo):
    execution = run_of(photo, answer_status=Status.FAILED)
    page = render_html(execution)
    assert 'class="badge failed"' in page and 'class="badge skipped"' in page
    assert "VQA crashed: &lt;out of memory&gt;" in page
    assert "skipped: its input ANSWER0 failed" in page
    assert "1 step(s) failed" in page and "the RESULT step did not run" in page


def test_an_image_result_is_shown_large_at_the_top(photo):
    execution = run_of(photo)
    execution = Execution(execution.program, execution.records, photo, execution.inputs, 0.1)
    page = render_html(execution)
    assert page.index('class="result"') < page.index("<h2>Program</h2>")


def test_write_html_writes_a_utf8_file(photo, tmp_path):
    path = write_html(run_of(photo), tmp_path / "why.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "ANSWER0=VQA" in text


def test_a_real_run_of_edit_tools_renders(photo):
    """End to end: the interpreter runs FACEDET (a stand-in), EMOJI, TAG and CROP; the page shows them."""
    from loupe.programs.errors import ProgramError
    from loupe.programs.interpreter import Interpreter
    from loupe.programs.values import ValueType
    from loupe.tools.base import Param, Tool
    from loupe.tools.crop import Crop
    from loupe.tools.emoji import Emoji
    from loupe.tools.registry import ToolRegistry
    from loupe.tools.result import Result
    from loupe.tools.tag import Tag

    class FixedFaces(Tool):
        name = "FACEDET"
        description = "Test face finder that returns one fixed box."
        inputs = {"image": Param(ValueType.IMAGE)}
        output = ValueType.OBJECTS

        def execute(self, image):
            return Objects((Obj((20, 10, 50, 30), "face", 0.9),), image.size)

    registry = ToolRegistry()
    for tool in (FixedFaces, Emoji, Tag, Crop, Result):
        registry.register(tool)
    program = ("OBJ0=FACEDET(image=IMAGE)\nIMAGE0=EMOJI(image=IMAGE,object=OBJ0,emoji='grinning_face')\n"
               "IMAGE1=TAG(image=IMAGE0,object=OBJ0)\nIMAGE2=CROP(image=IMAGE1,box=OBJ0)\n"
               "FINAL_RESULT=RESULT(var=IMAGE2)\n")
    execution = Interpreter(registry).run(program, {"IMAGE": photo})
    assert execution.ok, execution.errors
    assert isinstance(execution.result, Image) and execution.result.size == (46, 30)  # 1.5x, rounded outwards
    page = render_html(execution)
    assert all(f'id="step-{i}"' in page for i in range(5)) and page.count('class="badge ok"') == 5
    with pytest.raises(ProgramError, match="did you mean 'grinning_face'"):
        Interpreter(registry).run(program.replace("grinning_face", "grining_face"), {"IMAGE": photo})


def test_the_question_asked_is_shown_first_and_escaped(photo):
    page = render_html(run_of(photo), question="Is the <b>tie</b> red?")
    assert 'class="question"' in page and "Is the &lt;b&gt;tie&lt;/b&gt; red?" in page
    assert page.index("Question:") < page.index("Result") < page.index("Program")
    assert 'class="question"' not in render_html(run_of(photo))


def test_ranked_candidates_are_listed_with_their_scores_and_escaped():
    from loupe.programs.parser import parse_program as _parse

    program = _parse("BOX0=LOC(image=IMAGE,object='dog')\nFINAL_RESULT=RESULT(var=BOX0)")
    from loupe.programs.trace import Execution

    ranking = ({"program": "BOX0=LOC(image=IMAGE,object='<dog>')", "structure": -0.5, "lm_direct": None,
                "total": 1.25}, {"program": "B=LOC(image=IMAGE,object='cat')", "structure": -2.0,
                                 "lm_direct": -1.5, "total": -0.75})
    page = render_html(Execution(program, (), None, {}, 0.0), ranking=ranking)
    assert "<h2>Candidate programs</h2>" in page and "&lt;dog&gt;" in page and "<dog>" not in page
    assert page.index("1.25") < page.index("-0.75") and "<th>structure</th>" in page


def test_the_language_page_lists_objects_and_takes_sections_from_above(photo):
    """``loupe.programs.rationale`` knows no drawing and no planner: objects are listed, sections come in."""
    from loupe.programs.rationale import render_page

    page = render_page(run_of(photo), sections=[("Notes <from above>", "<p>fine</p>")])
    loc_section = page[page.index('id="step-0"'):page.index('id="step-1"')]
    assert loc_section.count("<img") == 1 and '<table class="objects">' in loc_section
    assert "<h2>Notes &lt;from above&gt;</h2><p>fine</p>" in page
