"""Moved to :mod:`loupe.tools.coco` (shared by the lite and GPU tiers); kept for the lite tier's own imports."""

from loupe.tools.coco import COCO_CLASSES  # noqa: F401
