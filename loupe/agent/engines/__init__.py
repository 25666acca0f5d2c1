"""Engines run one worker function over many payloads: ``LocalEngine`` (threads in this process) or
``RayEngine`` (actors on a Ray cluster). Both take a picklable *spec* with ``build()`` -> a callable
worker, and return the results in payload order, calling ``on_result(index, result)`` as each arrives.
"""

from __future__ import annotations

from loupe.agent.engines.local import LocalEngine

ENGINES = ("local", "ray")


def make_engine(name: str = "local", workers: int = 1, **options):
    """``local`` or ``ray``; ``options`` go to the engine (``RayEngine(address=..., local_mode=...)``)."""
    if name == "local":
        return LocalEngine(workers)
    if name == "ray":
        from loupe.agent.engines.ray_engine import RayEngine

        return RayEngine(workers, **options)
    from loupe.programs.errors import ProgramError

    raise ProgramError.at(f"unknown engine {name!r}", suggestion="choose local or ray")


__all__ = ["ENGINES", "LocalEngine", "make_engine"]
