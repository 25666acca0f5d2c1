"""The complete op table of the TF.js runner.

Importing the op modules files their builders in ``registry.OPS``; elementwise and
reduction families are filed by ``op_table()`` so that this stays explicit.
"""
from __future__ import annotations

from . import ops_conv, ops_math, ops_select, ops_spatial, ops_tensor  # noqa: F401  (file builders)
from .registry import OPS
from .rewrite import INTERNAL_OPS


def op_table() -> dict:
    """TF op name -> builder (see registry.py for the builder contract)."""
    if "AddV2" not in OPS:
        ops_math.register_elementwise()
        ops_math.register_reductions()
    return OPS


def supported_ops() -> list[str]:
    """Sorted names of every op the runner implements (plus Const and Placeholder)."""
    return sorted((set(op_table()) - INTERNAL_OPS) | {"Const", "Placeholder"})
