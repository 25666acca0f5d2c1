"""Lightweight model runners (TF.js graph models in pure PyTorch, see ``loupe.tools.lite.tfjs``)."""
