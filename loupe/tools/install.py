"""The exact command that installs an optional part of Loupe (an extra of pyproject.toml), for this copy.

Hints used to name the distribution ``loupe`` with an extra, which installs an unrelated PyPI project. Loupe is used from
a clone (``pip install -e .``, the README's set-up) or, once published, as the distribution
``loupe-vision``: a clone's hint names its folder, so it can be pasted anywhere."""

from __future__ import annotations

from pathlib import Path

DISTRIBUTION = "loupe-vision"
_CHECKOUT = Path(__file__).resolve().parents[2]


def pip_extra(*extras: str) -> str:
    """``python3 -m pip install ...`` for the ``extras`` (e.g. "gpu"), as this install needs it."""
    names = ",".join(extras)
    if (_CHECKOUT / "pyproject.toml").is_file():
        return f"python3 -m pip install -e '{_CHECKOUT}[{names}]'"
    return f"python3 -m pip install '{DISTRIBUTION}[{names}]'"
