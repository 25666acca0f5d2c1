"""Sessions on the LangGraph checkpointer (agent.chat.store) and their images by content (agent.chat.images):
one checkpoint per session whatever its length, kept across processes in SQLite, and each image once."""

import numpy as np

from loupe.agent.chat.images import ContentStore, content_key
from loupe.agent.chat.store import MAX_TURNS, SessionStore
from loupe.programs.values import Image


def image(value: int) -> Image:
    return Image(np.full((8, 12, 3), value, np.uint8))


def test_a_session_is_one_checkpoint_and_survives_the_process(tmp_path):
    store = SessionStore(tmp_path / "sessions.sqlite")
    for turn in range(MAX_TURNS + 5):
        state = store.load("s") or {"turns": [], "count": 0}
        store.save("s", {**state, "turns": [*state["turns"], {"turn": turn}], "count": state["count"] + 1})
    store.save("other", {"count": 1})
    assert len(list(store.checkpointer.list({"configurable": {"thread_id": "s"}}))) == 1
    store.close()
    again = SessionStore(tmp_path / "sessions.sqlite")
    state = again.load("s")
    assert state["count"] == MAX_TURNS + 5 and len(state["turns"]) == MAX_TURNS   # the last MAX_TURNS kept
    assert state["turns"][-1] == {"turn": MAX_TURNS + 4}
    assert again.ids() == ["other", "s"]
    again.delete("s")
    assert again.load("s") is None and again.ids() == ["other"]


def test_in_memory_sessions_keep_one_checkpoint_too():
    store = SessionStore()
    for count in range(3):
        store.save("s", {"count": count})
    assert store.load("s")["count"] == 2
    assert len(list(store.checkpointer.list({"configurable": {"thread_id": "s"}}))) == 1


def test_images_are_stored_once_by_content(tmp_path):
    store = ContentStore(tmp_path / "images", memo=1)
    first = store.put(image(10))
    assert store.put(Image(image(10).pixels.copy(), "another name")) == first == content_key(image(10))
    second = store.put(image(20))
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted([f"{first}.png", f"{second}.png"])
    assert np.array_equal(ContentStore(tmp_path / "images").get(first).pixels, image(10).pixels)   # from disk
    store.discard([first])
    assert not store.has(first) and store.has(second)
    assert content_key(Image(np.full((12, 8, 3), 10, np.uint8))) != first   # the shape counts
