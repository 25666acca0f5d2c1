"""Activation values and their memory layout inside the runner.

TF.js graphs are NHWC. The runner keeps 4-D image activations as NCHW torch tensors
(what ``torch.nn.functional`` convolutions expect) and remembers, per value, which
layout it is in. ``Act(t, nchw=True)`` means TF's tensor ``x`` (NHWC) is stored as
``t == x.permute(0, 3, 1, 2)``; ``nchw=False`` means ``t`` is exactly TF's tensor.
"""
from __future__ import annotations

import torch

# TF axis (NHWC) -> torch axis (NCHW) for a 4-D tensor stored NCHW.
NHWC_TO_NCHW_AXIS = (0, 2, 3, 1)


class Act:
    """One runtime value: a torch tensor and whether it is stored NCHW (see module doc)."""

    __slots__ = ("tensor", "nchw")

    def __init__(self, tensor: torch.Tensor, nchw: bool = False):
        self.tensor = tensor
        self.nchw = nchw

    def __repr__(self) -> str:
        return f"Act(shape={tuple(self.tensor.shape)}, nchw={self.nchw})"


def tf(act: Act) -> torch.Tensor:
    """The value in TF layout (NHWC for 4-D image tensors)."""
    return act.tensor.permute(0, 2, 3, 1) if act.nchw else act.tensor


def nchw(act: Act) -> torch.Tensor:
    """The 4-D value as NCHW; raises if the TF value is not 4-D."""
    if act.nchw:
        return act.tensor
    if act.tensor.dim() != 4:
        raise ValueError(f"expected a 4-D NHWC tensor, got shape {tuple(act.tensor.shape)}")
    return act.tensor.permute(0, 3, 1, 2)


def tf_shape(act: Act) -> tuple[int, ...]:
    """The TF (NHWC) shape of a value, whatever its storage."""
    s = act.tensor.shape
    return (s[0], s[2], s[3], s[1]) if act.nchw else tuple(s)


def broadcastable_nchw(act: Act) -> torch.Tensor:
    """The value arranged to broadcast against an NCHW-stored 4-D tensor.

    A TF-layout operand of rank r <= 4 broadcasts against NHWC by right-alignment; we
    left-pad its shape with ones to rank 4 and permute it like the activation.
    """
    if act.nchw:
        return act.tensor
    t = act.tensor
    if t.dim() > 4:
        raise ValueError(f"cannot broadcast a rank-{t.dim()} tensor against a 4-D activation")
    t = t.reshape((1,) * (4 - t.dim()) + tuple(t.shape))
    return t.permute(0, 3, 1, 2)


def common_layout(acts: list[Act]) -> tuple[list[torch.Tensor], bool]:
    """Bring elementwise operands to one layout; returns (tensors, result_is_nchw).

    NCHW is kept when any operand is an NCHW activation and every other operand has
    rank <= 4 (so TF broadcasting can be mirrored); otherwise everything goes TF layout.
    """
    if any(a.nchw for a in acts) and all(a.nchw or a.tensor.dim() <= 4 for a in acts):
        return [broadcastable_nchw(a) for a in acts], True
    return [tf(a) for a in acts], False


def axis_for(act: Act, axis: int) -> int:
    """Map a TF axis (may be negative) to the storage axis of ``act``."""
    rank = act.tensor.dim()
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"axis {axis} out of range for rank {rank}")
    return NHWC_TO_NCHW_AXIS[axis] if act.nchw else axis
