"""A conversation with photos: each turn is read against the session (``loupe.agent.planning.references``), run
by the Agent on the image it is about, and recorded in the session (``loupe.agent.chat.store``).

    conversation = Conversation.start(agent, sessions, images, [photo])
    conversation.turn("how many dogs are there?").answer      # '2'
    conversation.turn("blur them").image                      # the dogs blurred
    conversation.turn("undo").image                           # the photo before the blur

A turn whose reference cannot be resolved runs nothing: its status is ``needs_clarification`` and its
reason the question to ask. An edit's result becomes the current image (undo goes back one image); a
question about an earlier image ("... in the original") moves the conversation there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Callable
import uuid

from loupe.agent.chat.images import ContentStore
from loupe.agent.chat.store import SessionState, SessionStore
from loupe.agent.planning.references import Context, Followup, resolve, subject_of
from loupe.programs.values import Image

NEEDS_CLARIFICATION = "needs_clarification"
MAX_BACK = 50   # how many images back undo can go


@dataclass(frozen=True)
class Turn:
    """One turn: what was typed (``text``) and what the planners read (``query``), the outcome (``status``,
    ``answer``, ``reason``), the image the conversation is on afterwards when the turn made or chose one
    (``image``, its content key ``image_key``), the references resolved, and the Agent's ``Answer`` when a
    program ran (None for undo, a switch of image, or a question back)."""

    session: str
    number: int
    text: str
    query: str
    status: str
    answer: str = ""
    reason: str = ""
    image: Image | None = field(default=None, repr=False)
    image_key: str | None = None
    program: str = ""
    references: tuple[dict, ...] = ()
    answer_object: object = field(default=None, repr=False)

    @property
    def answered(self) -> bool:
        return self.status in ("ok", "partial")

    def summary(self) -> dict:
        """The turn as the session keeps it (plain data, no pixels)."""
        return {"turn": self.number, "text": self.text, "query": self.query, "status": self.status,
                "answer": self.answer, "reason": self.reason, "image": self.image_key, "program": self.program,
                "references": list(self.references)}


class Conversation:
    """One session's turns over ``agent`` (an ``loupe.agent.api.Agent``); state in ``sessions``, images in ``images``.
    Not thread-safe: one turn of a session at a time (the service holds a lock per session)."""

    def __init__(self, agent, sessions: SessionStore, images: ContentStore, session_id: str, state: SessionState):
        self.agent, self.sessions, self.images, self.id, self.state = agent, sessions, images, session_id, state

    @classmethod
    def start(cls, agent, sessions: SessionStore, images: ContentStore, photos: list[Image],
              session_id: str | None = None) -> Conversation:
        """A new session holding ``photos`` (one or two), the first one current."""
        now = time.time()
        state: SessionState = {"images": [], "current": 0, "back": [], "objects": [], "question": [],
                               "subject": "", "program": "", "turns": [], "count": 0, "created": now, "used": now}
        conversation = cls(agent, sessions, images, session_id or uuid.uuid4().hex, state)
        for photo in photos:
            conversation._add(photo, "given")
        conversation.state["current"] = 0
        sessions.save(conversation.id, conversation.state)
        return conversation

    @classmethod
    def resume(cls, agent, sessions: SessionStore, images: ContentStore, session_id: str) -> Conversation:
        """The stored session ``session_id``; KeyError when there is none."""
        state = sessions.load(session_id)
        if state is None:
            raise KeyError(session_id)
        return cls(agent, sessions, images, session_id, state)

    # ---- reading ------------------------------------------------------------------------------------

    def context(self) -> Context:
        state = self.state
        back = state.get("back", [])
        return Context(objects=tuple(state.get("objects", ())),
                       images=tuple(entry["label"] for entry in state["images"]),
                       originals=tuple(i for i, entry in enumerate(state["images"]) if entry["origin"] == "given"),
                       current=state["current"], previous=back[-1] if back else None,
                       question=tuple(state.get("question", ())), subject=state.get("subject", ""))

    def image(self, index: int | None = None) -> Image:
        """The conversation's image ``index`` (default: the current one)."""
        entry = self.state["images"][self.state["current"] if index is None else index]
        return self.images.get(entry["key"])

    @property
    def turns(self) -> list[dict]:
        return list(self.state.get("turns", []))

    def add_photo(self, photo: Image) -> int:
        """Add a photo the person gives mid-conversation; it becomes the current image."""
        index = self._add(photo, "given")
        self._move(index)
        self.sessions.save(self.id, self.state)
        return index

    # ---- a turn -------------------------------------------------------------------------------------

    def turn(self, text: str, on_event: Callable[[dict], None] | None = None, run_id: str | None = None,
             mode: str | None = None) -> Turn:
        """Read ``text`` in this conversation, run what it asks (in ``mode``, default the Agent's), record it;
        ``on_event`` gets the Agent's events (plan, step, answer...) as they happen."""
        follow = resolve(text, self.context())
        number = self.state.get("count", 0) + 1
        refs = tuple(r.as_dict() for r in follow.references)
        if follow.unresolved:
            turn = Turn(self.id, number, text, follow.query, NEEDS_CLARIFICATION, reason=follow.unresolved,
                        references=refs)
        elif follow.undo:
            self.state["current"] = self.state["back"].pop()
            turn = self._shown(number, text, follow, f"back to {self.context().images[follow.image]}")
        elif follow.switch:
            self._move(follow.image)
            turn = self._shown(number, text, follow, f"now on {self.context().images[follow.image]}")
        else:
            turn = self._run(number, text, follow, on_event, run_id or uuid.uuid4().hex, mode)
        self.state["count"] = number
        self.state["used"] = time.time()
        self.state["turns"] = [*self.state.get("turns", []), turn.summary()]
        self.sessions.save(self.id, self.state)
        return turn

    def _run(self, number: int, text: str, follow: Followup, on_event, run_id: str, mode: str | None) -> Turn:
        originals = self.context().originals
        left = self.image(originals[0] if follow.two_images else follow.image)
        right = self.image(originals[1]) if follow.two_images else None
        answer = None
        try:
            for event in self.agent.stream(left, follow.query, right, mode, run_id=run_id):
                if event["event"] == "done":
                    answer = event["answer_object"]
                elif on_event is not None:
                    on_event(event)
        finally:
            self.agent.forget(run_id)
        refs = tuple(r.as_dict() for r in follow.references)
        if follow.image != self.state["current"] and not follow.two_images:
            self._move(follow.image)
        key = None
        if answer.image is not None:
            index = self._add(answer.image, number)
            self._move(index)
            key = self.state["images"][index]["key"]
        if answer.execution is not None:
            self.state["objects"] = located(answer.execution)
        self.state["program"] = answer.program
        if follow.reading.act == "question" and answer.answered:
            self.state["question"] = list(follow.reading.words)
            self.state["subject"] = subject_of(follow.reading)
        return Turn(self.id, number, text, follow.query, answer.status, answer.text, answer.reason,
                    answer.image, key, answer.program, refs, answer)

    def _shown(self, number: int, text: str, follow: Followup, said: str) -> Turn:
        """A turn that only changes which image the conversation is on."""
        entry = self.state["images"][self.state["current"]]
        return Turn(self.id, number, text, follow.query, "ok", said, image=self.images.get(entry["key"]),
                    image_key=entry["key"], references=tuple(r.as_dict() for r in follow.references))

    def _add(self, image: Image, origin) -> int:
        """The index of ``image`` in the session: a new entry only for content it does not hold yet (the same
        blur made again, or a photo given twice, is the image already there)."""
        key = self.images.put(image)
        known = next((i for i, entry in enumerate(self.state["images"]) if entry["key"] == key), None)
        if known is not None:
            return known
        given = sum(1 for entry in self.state["images"] if entry["origin"] == "given")
        label = (f"photo {given + 1}" if origin == "given" else f"the edit of turn {origin}")
        self.state["images"].append({"key": key, "label": label, "origin": origin})
        return len(self.state["images"]) - 1

    def _move(self, index: int) -> None:
        if index != self.state["current"]:
            self.state["back"] = [*self.state["back"], self.state["current"]][-MAX_BACK:]
            self.state["current"] = index


def located(execution) -> list[str]:
    """The object phrases ``execution`` found something for: LOC's objects, 'face' for FACEDET (a search that
    found nothing gives no referent: 'blur them' after 'are there cats?' -> 'no' is asked about)."""
    from loupe.programs.values import Objects

    found: list[str] = []
    for record in execution.records:
        if record.module not in ("LOC", "FACEDET") or not isinstance(record.value, Objects) or not record.value.items:
            continue
        step = execution.program.step_defining(record.output)
        value = "face" if record.module == "FACEDET" else \
            next((a.value for a in step.args if a.name == "object"), None) if step is not None else None
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    return list(dict.fromkeys(found))
