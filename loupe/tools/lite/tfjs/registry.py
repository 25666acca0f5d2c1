"""The op table: TF op name -> builder.

A builder is called once per node at load time as ``build(node, consts)`` where
``consts[i]`` is the i-th input as a torch tensor when it is a (folded) constant, else
None. It returns ``run(acts) -> Act | list[Act]`` taking every input as an ``Act``.
"""
from __future__ import annotations

from typing import Callable

OPS: dict[str, Callable] = {}


class UnsupportedOpError(NotImplementedError):
    """A graph uses an op (or an op variant) the TF.js runner does not implement."""


def register(*names: str):
    """Decorator: file ``builder`` under each TF op name in ``names``."""
    def wrap(builder):
        for name in names:
            OPS[name] = builder
        return builder
    return wrap


def unsupported(node, what: str) -> UnsupportedOpError:
    """An error naming the node, its op and the variant that is not implemented."""
    return UnsupportedOpError(f"node {node.name!r} (op {node.op!r}): {what} is not implemented")


def const_list(consts, index: int, node, what: str) -> list:
    """Input ``index`` as a Python list; it must be a load-time constant."""
    value = consts[index] if index < len(consts) else None
    if value is None:
        raise unsupported(node, f"a non-constant {what} (input {index})")
    return value.reshape(-1).tolist()
