"""Planners, the LLM layer, the SayCan scorer, the LangGraph agent and the CLI."""
