"""Sessions on the LangGraph checkpointer: one thread per session, holding a ``SessionState`` (plain data:
image keys of the ``ContentStore``, never pixels).

The session graph has one node that records; a turn's new state is written with ``update_state`` (one
checkpoint), and the thread's older checkpoints are dropped, so a session costs one
checkpoint whatever its length; the state keeps the last ``MAX_TURNS`` turns. SQLite by default
(``path``), in memory without one.
"""

from __future__ import annotations

from pathlib import Path
import sqlite3
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

RECORD = "record"
MAX_TURNS = 50   # turns kept in a session's state (older ones are summarised by their count only)


class SessionState(TypedDict, total=False):
    """``images``: one ``{"key", "label", "origin"}`` per image in the order they came (origin: ``given`` or
    the turn number of the edit that made it); ``current``: the index the next turn works on; ``back``: the
    indexes undo returns to (a stack); ``objects``: what the last program located; ``question`` / ``subject``:
    the last question's words and the object it was about; ``program``: the last program; ``turns``: a
    summary per turn (the last ``MAX_TURNS``); ``count``: turns taken; ``created`` / ``used``: epoch seconds."""

    images: list[dict]
    current: int
    back: list[int]
    objects: list[str]
    question: list[str]
    subject: str
    program: str
    turns: list[dict]
    count: int
    created: float
    used: float


class SessionStore:
    """``load`` / ``save`` / ``delete`` / ``ids`` of sessions on one checkpointer."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else None
        if self.path is not None:
            from langgraph.checkpoint.sqlite import SqliteSaver

            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.checkpointer = SqliteSaver(sqlite3.connect(str(self.path), check_same_thread=False))
        else:
            from langgraph.checkpoint.memory import InMemorySaver

            self.checkpointer = InMemorySaver()
        graph = StateGraph(SessionState)
        graph.add_node(RECORD, lambda state: {})
        graph.add_edge(START, RECORD)
        graph.add_edge(RECORD, END)
        self.graph = graph.compile(checkpointer=self.checkpointer)

    def load(self, session_id: str) -> SessionState | None:
        """The session's state, or None when there is no such session."""
        values = self.graph.get_state(_config(session_id)).values
        return dict(values) if values else None

    def save(self, session_id: str, state: SessionState) -> None:
        """Write the session's new state (one checkpoint; the thread's older ones are pruned)."""
        state = {**state, "turns": list(state.get("turns", []))[-MAX_TURNS:]}
        if self.path is None:   # in memory: nothing to lose between the two calls
            self.checkpointer.delete_thread(session_id)
        written = self.graph.update_state(_config(session_id), state, as_node=RECORD)
        if self.path is not None:
            self._keep_latest(session_id, written["configurable"]["checkpoint_id"])

    def _keep_latest(self, session_id: str, checkpoint_id: str) -> None:
        """Drop the thread's checkpoints older than ``checkpoint_id`` (the checkpointers' own ``prune`` is not
        implemented in langgraph-checkpoint-sqlite 3.1; the tables are its documented schema)."""
        with self.checkpointer.cursor() as cursor:
            for table in ("checkpoints", "writes"):
                cursor.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id != ?",
                               (session_id, checkpoint_id))

    def delete(self, session_id: str) -> None:
        self.checkpointer.delete_thread(session_id)

    def ids(self) -> list[str]:
        """Every stored session's id."""
        return sorted({c.config["configurable"]["thread_id"] for c in self.checkpointer.list(None)})

    def close(self) -> None:
        if self.path is not None:
            self.checkpointer.conn.close()


def _config(session_id: str) -> dict:
    return {"configurable": {"thread_id": session_id}}
