"""Loupe's vision tools: one module per tool, pluggable model backends."""
