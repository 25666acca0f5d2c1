"""Moved to :mod:`loupe.tools.vocabulary` (shared by the lite and GPU tiers); kept for the lite tier's own imports."""

from loupe.tools.vocabulary import *  # noqa: F401,F403
