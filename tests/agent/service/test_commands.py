"""``loupe serve`` as a user starts it: a process on 127.0.0.1 that answers, and needs the token when set."""

import os
from pathlib import Path
import socket
import subprocess
import sys
import time

import pytest

from service_support import ORACLE, PHOTOS

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.models


def test_loupe_serve_answers_on_localhost_with_the_token(tmp_path):
    """Started with --require-approval: a question is still answered at once (only edits wait)."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOUPE_API_TOKEN": "t0ken"}
    process = subprocess.Popen([sys.executable, "-m", "loupe.agent.cli", "serve", "--port", str(port), "--llm", ORACLE,
                                "--no-cache", "--no-warm", "--allow-dir", str(PHOTOS), "--require-approval"],
                               env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer t0ken"}
    try:
        for _ in range(240):
            try:
                if httpx.get(url + "/v1/health", headers=auth, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert httpx.get(url + "/v1/health", timeout=5).status_code == 401
        assert httpx.get(url + "/v1/health", headers=auth, timeout=5).json()["require_approval"] is True
        answer = httpx.post(url + "/v1/ask", headers=auth, timeout=120,
                            data={"query": "How many bicycles?", "image_path": str(PHOTOS / "dog.jpg")}).json()
        assert answer["answer"] == "1"
        assert httpx.get(url + "/docs", headers=auth, timeout=5).status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"Loupe on http://127.0.0.1:{port}/ (API docs: /docs, MCP: /mcp); every edit waits for approval" in stderr


@pytest.mark.parametrize("environ, flag, required", [({}, False, False), ({"LOUPE_REQUIRE_APPROVAL": "1"}, False, True),
                                                     ({"LOUPE_REQUIRE_APPROVAL": "0"}, True, True),
                                                     ({"LOUPE_REQUIRE_APPROVAL": "yes"}, None, True)])
def test_approval_is_required_by_the_option_or_the_environment(environ, flag, required):
    """The operator's variable cannot be lifted by the command line, and either one alone turns it on."""
    from loupe.agent.service.config import ServiceConfig
    from loupe.tools.settings import Settings

    config = ServiceConfig.from_options(Settings.from_env(environ), (ORACLE,), require_approval=flag)
    assert config.require_approval is required
