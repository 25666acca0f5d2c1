"""stdout belongs to Loupe's own output: ``--json`` prints exactly one JSON object there, whatever the libraries
underneath print (ultralytics' "Creating new Ultralytics Settings", a C library's chatter, a child process).

While a command runs inside :func:`reserved_stdout`, ``sys.stdout`` is ``sys.stderr`` and file descriptor 1
points at stderr too, so third-party output lands on stderr; :func:`out` writes to the real stdout.
"""

from __future__ import annotations

from contextlib import contextmanager
import io
import os
import sys
from typing import Iterator, TextIO

import click
from loupe.tools.install import pip_extra

#: the exit codes of every command: 0 ok; 2 bad program or input, or an LLM server that failed; 1 a bug
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_UNSUPPORTED = 0, 1, 2, 3

_real: TextIO | None = None


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """For a module an optional extra brings (fastapi: serve, torch: lite, ...): what to run to install it,
    read from the extras that Loupe's installed distribution declares (a module ``x_y`` is the package
    ``x-y``); None when no extra names it."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, requires
    import re

    wanted = (error.name or "").split(".")[0].replace("_", "-").lower()
    ours = packages_distributions().get(__name__.split(".")[0], [])  # whatever the distribution is named
    if not ours:
        return None
    try:
        declared = requires(ours[0]) or []
    except PackageNotFoundError:
        return None
    for requirement in declared:
        found = re.match(r"\s*([A-Za-z0-9._-]+).*;.*extra\s*==\s*[\"']([\w-]+)[\"']", requirement)
        if found and found.group(1).replace("_", "-").lower() == wanted and found.group(2) not in ("all", "test"):
            return pip_extra(found.group(2))
    return None


def out(text: str) -> None:
    """Write one line of Loupe's own output to the real stdout."""
    click.echo(text, file=_real or sys.stdout)


def flush() -> None:
    """Flush both streams (before ``os._exit``, which skips the ``finally`` of :func:`reserved_stdout`)."""
    for stream in (_real, sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


@contextmanager
def reserved_stdout() -> Iterator[None]:
    """Send every write but :func:`out`'s to stderr until the block ends (nested calls are no-ops)."""
    global _real
    if _real is not None:
        yield
        return
    original = sys.stdout
    saved_fd = _divert_fd1(original)
    real = original
    if saved_fd is not None:
        real = io.TextIOWrapper(io.FileIO(saved_fd, "w", closefd=False), encoding=original.encoding,
                                errors=original.errors, line_buffering=True)
    _real, sys.stdout = real, sys.stderr
    try:
        yield
    finally:
        flush()
        _real, sys.stdout = None, original
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def _divert_fd1(stream) -> int | None:
    """Point fd 1 at stderr's descriptor and return a copy of the old fd 1 (None when ``stream`` is not fd 1,
    e.g. under click's test runner)."""
    try:
        if stream.fileno() != 1:
            return None
        error_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    stream.flush()
    saved = os.dup(1)
    os.dup2(error_fd, 1)
    return saved


@contextmanager
def released_stdout() -> Iterator[None]:
    """Give the real stdout back to a command that owns the wire itself: the MCP stdio server speaks JSON-RPC
    on fd 1 and diverts stray output to stderr on its own."""
    real = _real
    if real is None:
        yield
        return
    flush()
    try:
        real_fd = real.fileno()
    except (AttributeError, OSError, ValueError):
        real_fd = None
    saved = os.dup(1) if real_fd is not None else None
    if real_fd is not None:
        os.dup2(real_fd, 1)
    previous, sys.stdout = sys.stdout, real
    try:
        yield
    finally:
        flush()
        sys.stdout = previous
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
