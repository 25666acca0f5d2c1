"""Lite backends of the model tools: each runs a batch of one tool's calls on the shared lite models."""
