"""Conversations with photos (issue 26): sessions that keep their images, objects and questions on the
LangGraph checkpointer, and follow-ups read against them (``loupe.agent.planning.references``)."""
