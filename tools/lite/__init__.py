"""Lightweight model runners (TF.js graph models in pure PyTorch, see ``tools.lite.tfjs``)."""
