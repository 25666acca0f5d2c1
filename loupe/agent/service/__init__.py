"""Loupe as a service: one warm process behind an HTTP API, a web page and an MCP server.

``config`` the settings and limits · ``limits`` uploads, allowed folders, the bounded queue ·
``batching`` cross-request batching of tool calls · ``runs`` one run's events and results ·
``engine`` the warm agents and the worker pool · ``app`` the FastAPI app (``loupe serve``) ·
``mcp_server`` the MCP tools (``loupe mcp``) · ``ui/`` the web page served at ``/``.
"""
