"""Choosing the compute device for model backends."""

from __future__ import annotations


def pick_device(wanted: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a CUDA GPU is usable, else ``mps`` on Apple silicon, else ``cpu``."""
    if wanted and wanted != "auto":
        return wanted
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def gpu_present() -> bool:
    """Whether a CUDA or MPS device is usable (imports torch; loads nothing)."""
    return pick_device("auto") != "cpu"
