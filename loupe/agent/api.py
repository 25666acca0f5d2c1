"""The Python API: ``Agent(...).ask(image, query)`` — what ``loupe ask`` does, as a library.

    with Agent(llm="local") as agent:                 # the embedded SmolLM2; or "openai:gpt-4o-mini", a URL...
        answer = agent.ask("photo.jpg", "how many horses are there?")
    answer.status, answer.reason                      # "ok" | "partial" | "unsupported" | ...; why, when not ok
    answer.text, answer.program                       # the answer ('' for an edit) and the program that gave it
    answer.image.to_pil().save("out.png")             # an edit: a programs.values.Image (None for an answer)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
import uuid

from loupe.agent.graph_deps import MODES, GraphDeps
from loupe.programs.errors import InputError, ProgramError
from loupe.programs.images import load_image, to_image
from loupe.programs.trace import Execution
from loupe.programs.values import Image, safe_text
from loupe.tools.settings import Settings

#: the longest question or instruction accepted, in characters (a long paragraph; a question that long
#: is an accident or an attack, and would make every prompt, and so every LLM call, slow).
MAX_QUERY_CHARS = 2_000


@dataclass(frozen=True)
class Answer:
    """What ``ask`` returns. ``text`` is the answer ('' for an edit); ``image`` the edited image, a frozen
    ``loupe.programs.values.Image`` (``.to_pil()`` gives a PIL image, ``.pixels`` a read-only uint8 [H, W, 3] array),
    or None. ``status``: ``ok``; ``partial`` (an answer that did not use every word that could change it:
    ``reason`` names them, ``coverage["unused"]`` lists them); ``unsupported`` (the installed tools cannot
    answer; nothing ran; ``reason`` says what would); ``failed`` or ``invalid_program`` (``errors`` say why);
    ``rejected`` (an edit not approved). ``answered`` is true for ``ok`` and ``partial``."""

    query: str
    mode: str
    status: str
    text: str = ""
    image: Image | None = None
    program: str = ""
    llm_calls: int = 0
    prompt_tokens: int = 0
    from_cache: bool = False
    errors: tuple[str, ...] = ()
    execution: Execution | None = None   # the live execution (values included), in the process that ran it
    saycan: Any = None                   # the live SayCanRun, likewise
    steps: tuple[dict, ...] = ()         # each step's summary (StepRecord.summary), from the graph's state
    saycan_steps: tuple[dict, ...] = ()  # SayCan's choices and their scored candidates, from the state
    events: tuple[dict, ...] = field(default=(), repr=False)
    ranking: tuple[dict, ...] = ()   # the ranking planner's top candidates (program mode, --planner rank)
    reason: str = ""                 # partial: what of the request was not used; unsupported: why, what would answer
    coverage: dict = field(default_factory=dict)  # agent.planning.coverage.Coverage.as_dict

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def answered(self) -> bool:
        """An answer was given: ``ok``, or ``partial`` (an answer that did not use all of the request)."""
        return self.status in ("ok", "partial")


class Agent:
    """Plans a program for a question or instruction, checks it, runs it, repairs or replans on errors.

    ``llm``: an ``loupe.agent.llm`` model or a spec for ``make_llm`` ("local", "openai:MODEL", "ollama:MODEL",
    a server URL); None: the settings' LLM (``$LOUPE_LLM``, else "local"). ``settings``: a
    ``loupe.tools.settings.Settings``; None reads the environment once, here (the constructor is the library's
    entry point), and everything below (LLM, tools, program cache folder) gets these.
    ``mode``: program | tasks | saycan. ``approve``: called with ``(program, edits)``
    before a program that writes images runs; returning False stops it. ``checkpoint``: a path to a
    SQLite file so runs can be resumed (``resume``). ``close()`` (or a ``with`` block) removes the
    agent's temporary image folder; it is also removed when the agent is garbage-collected or at exit.
    """

    def __init__(self, llm=None, mode: str = "program", registry=None, use_cache: bool = True,
                 cache_path=None, max_repairs: int = 1, max_replans: int = 1,
                 approve: Callable[[str, list[str]], bool] | None = None, checkpoint: str | Path | None = None,
                 step_timeout_s: float = 300.0, planner: str = "auto", settings: Settings | None = None):
        from loupe.agent.graph import build_graph
        from loupe.agent.planning.program_cache import DEFAULT_FILENAME
        from loupe.tools.registry import default_registry

        if mode not in MODES:
            raise ProgramError.at(f"unknown mode {mode!r}", suggestion="choose program, tasks or saycan")
        self.settings = settings if settings is not None else Settings.from_env()  # the library's entry point
        if llm is None or isinstance(llm, str):
            from loupe.agent.llm import make_llm

            llm = make_llm(llm, settings=self.settings)
        if use_cache and cache_path is None:
            cache_path = self.settings.cache_root() / DEFAULT_FILENAME
        self.mode, self.max_repairs, self.max_replans, self.approve = mode, max_repairs, max_replans, approve
        self.deps = GraphDeps(llm, registry or default_registry(self.settings), use_cache, cache_path,
                               step_timeout_s=step_timeout_s, persist_images=checkpoint is not None,
                               planner=planner)
        self.deps.approve = approve
        self._checkpointer = _checkpointer(checkpoint)
        self.graph = build_graph(self.deps, self._checkpointer)

    @property
    def llm(self):
        return self.deps.llm

    def close(self) -> None:
        """Remove the temporary files of this agent (edited images kept for the graph's state)."""
        self.deps.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ask(self, image, query: str, right=None, mode: str | None = None) -> Answer:
        events = list(self.stream(image, query, right, mode))
        return events[-1]["answer_object"]

    def stream(self, image, query: str, right=None, mode: str | None = None,
               run_id: str | None = None) -> Iterator[dict]:
        """Yield step events as they happen; the last event is ``{"event": "done", "answer_object": Answer}``."""
        from langgraph.types import Command

        from loupe.agent.graph import LIVE

        mode = mode or self.mode
        check_query(query)
        run_id = run_id or uuid.uuid4().hex
        state = self._initial_state(run_id, image, query, right, mode)
        config = {"configurable": {"thread_id": run_id}}
        collected: list[dict] = []
        live: dict = {}
        payload: Any = state
        while True:
            interrupted = None
            for kind, chunk in self.graph.stream(payload, config, stream_mode=["custom", "updates"]):
                if kind == "custom" and chunk.get("event") == LIVE:
                    live.update(chunk)
                elif kind == "custom":
                    collected.append(chunk)
                    yield chunk
                elif "__interrupt__" in chunk:
                    interrupted = chunk["__interrupt__"][0].value
            if interrupted is None:
                break
            decision = self.approve(interrupted["program"], interrupted["edits"]) if self.approve else True
            yield {"event": "approval", "approved": bool(decision), "edits": interrupted["edits"]}
            payload = Command(resume=bool(decision))
        final = self.graph.get_state(config).values
        yield {"event": "done", "answer_object": self._answer(final or {}, collected, live, mode, query)}

    def forget(self, run_id: str) -> None:
        """Drop a finished run's checkpoints and stored images (a long-running server calls this after each
        run, so memory and the image folder stay bounded). The run cannot be resumed afterwards."""
        config = {"configurable": {"thread_id": run_id}}
        values = self.graph.get_state(config).values or {}
        self.deps.images.discard([*values.get("images", {}).values(), values.get("result_image")])
        self._checkpointer.delete_thread(run_id)

    def _initial_state(self, run_id, image, query, right, mode) -> dict:
        images = {"IMAGE": self.deps.images.put_input(_as_image(image))}
        if right is not None:
            images = {"LEFT": images["IMAGE"], "RIGHT": self.deps.images.put_input(_as_image(right))}
        return {"run_id": run_id, "query": query, "mode": mode, "images": images, "repairs_left": self.max_repairs,
                "replans_left": self.max_replans, "llm_calls": 0, "prompt_tokens": 0, "from_cache": False,
                "approval_required": self.approve is not None, "errors": []}

    def _answer(self, state, events, live, mode, query) -> Answer:
        image = self.deps.images.get(state["result_image"]) if state.get("result_image") else None
        return Answer(query, mode, state.get("status", "failed"), state.get("answer", ""), image,
                      state.get("program", ""), state.get("llm_calls", 0), state.get("prompt_tokens", 0),
                      state.get("from_cache", False), tuple(state.get("errors", [])),
                      execution=live.get("execution"), saycan=live.get("saycan"),
                      steps=tuple(state.get("steps", ())), saycan_steps=tuple(state.get("saycan_steps", ())),
                      events=tuple(events), ranking=tuple(state.get("ranking", ())),
                      reason=state.get("reason", ""), coverage=dict(state.get("coverage") or {}))


def check_query(query) -> None:
    """A question is non-empty text of at most MAX_QUERY_CHARS characters; else an InputError."""
    if not isinstance(query, str) or not query.strip():
        raise InputError("the question is empty; ask something about the image, e.g. 'How many dogs are there?'")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"the question is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    if safe_text(query) != query:
        raise InputError(f"the question is not valid text (undecodable bytes or a lone surrogate: "
                         f"{safe_text(query)[:80]!r}); write it in UTF-8")


def _checkpointer(path):
    if path:
        import sqlite3

        from langgraph.checkpoint.sqlite import SqliteSaver

        return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
    from langgraph.checkpoint.memory import InMemorySaver

    return InMemorySaver()


def _as_image(image) -> Image:
    if isinstance(image, Image):
        return image
    if isinstance(image, (str, Path)):
        return load_image(image)
    return to_image(image)
