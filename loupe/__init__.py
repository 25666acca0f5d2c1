"""Loupe: an agent in which an LLM controls vision tools through checked visual programs.

Three layers, each importing only the ones below it (checked by import-linter, pyproject.toml):
``loupe.programs`` (the language: parser, checker, interpreter), ``loupe.tools`` (the vision modules and
their lite and GPU backends) and ``loupe.agent`` (planners, the LangGraph agent, the CLI, the service).
One namespace, so a user's own ``tools.py`` or ``agent.py`` never shadows Loupe's.
"""
