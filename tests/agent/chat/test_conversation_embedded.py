"""A conversation through the library (``loupe.agent.chat.conversation``) with the embedded ranking planner, not a
scripted one: the resolved follow-ups are requests it plans on its own. Needs `loupe models pull`."""

import numpy as np
import pytest

from chat_script import PHOTOS, changed, needs_lite
from loupe.tools.settings import Settings

pytestmark = needs_lite


def _embedded() -> bool:
    from loupe.agent.llm.embedded import gguf_path

    return gguf_path().is_file()


@pytest.mark.skipif(not _embedded(), reason="models not installed; run `loupe models pull`")
def test_follow_ups_planned_by_the_embedded_model():
    from loupe.agent.api import Agent
    from loupe.agent.chat.conversation import Conversation
    from loupe.agent.chat.images import ContentStore
    from loupe.agent.chat.store import SessionStore
    from loupe.programs.images import load_image

    photo = load_image(PHOTOS / "family_dinner.jpg")
    with Agent(use_cache=False, settings=Settings.from_env()) as agent:
        talk = Conversation.start(agent, SessionStore(), ContentStore(), [photo])
        counted = talk.turn("how many faces are there?")
        blurred = talk.turn("now blur them")
        undone = talk.turn("undo that")
        dogs = talk.turn("and dogs?")
        asked = talk.turn("hide them")
    assert (counted.status, counted.answer) == ("ok", "8")
    assert blurred.query == "blur the faces" and blurred.status == "ok" and changed(blurred.image.pixels,
                                                                                    photo.pixels) > 0.01
    assert undone.status == "ok" and np.array_equal(undone.image.pixels, photo.pixels)
    assert dogs.query == "how many dogs are there" and dogs.answer == "0"
    assert asked.status == "needs_clarification" and asked.answer_object is None   # nothing run, nothing guessed
    assert [t["turn"] for t in talk.turns] == [1, 2, 3, 4, 5]
