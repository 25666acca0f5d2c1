"""Values a caller injects for the tools of one run: the planner's language model, which LIST, PICK_TEXT
and CLIP's descriptors use. Scoped by ``contextvars``, so two agents in one process (or two runs on two
threads) each see their own, and nothing is written into a registry or tool context shared by both.

    with injected({LLM_KEY: llm}):
        interpreter.run(program, inputs)   # the interpreter runs each tool call in the caller's context

``ToolContext.provided(key)`` reads the injected value first.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Iterator, Mapping

LLM_KEY = ("llm",)  # the planner's language model: ``complete(prompt, system=..., max_tokens=...)``
CHECK_KEY = ("check",)  # ``check()``: raises to stop the run (a service's cancellation), called between frames

_INJECTED: ContextVar[Mapping] = ContextVar("loupe_injected", default=MappingProxyType({}))


@contextmanager
def injected(values: Mapping) -> Iterator[None]:
    """Within the block (and the tool calls an interpreter makes from it), ``values`` are provided."""
    token = _INJECTED.set(MappingProxyType({**_INJECTED.get(), **values}))
    try:
        yield
    finally:
        _INJECTED.reset(token)


def injected_value(key, default=None):
    """The value injected under ``key`` for the current run, or ``default``."""
    return _INJECTED.get().get(key, default)


def check_between() -> None:
    """Call the run's injected ``check`` (``CHECK_KEY``), if any: a long step over many items (the frames of a
    video) calls it between them, so a run cancelled or past its time limit stops within one item, not at
    the end of the step."""
    check = injected_value(CHECK_KEY)
    if check is not None:
        check()
