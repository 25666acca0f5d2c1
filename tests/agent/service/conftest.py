"""The service under test: the real app and lite models, with a scripted planner (``oracle:programs.jsonl``)
so that the tests measure the service, not the embedded LLM's speed."""

import pytest

from service_support import make_config


@pytest.fixture
def make_client(tmp_path):
    """``make_client(registry=None, llm_factory=None, **config options) -> TestClient`` of a fresh app (closed
    afterwards). Its requests name the host 127.0.0.1 (the server's Host allowlist holds the loopback names)."""
    from fastapi.testclient import TestClient

    from loupe.agent.service.app import create_app
    from loupe.agent.service.engine import Engine

    clients = []

    def make(registry=None, llm_factory=None, **options):
        engine = Engine(make_config(tmp_path, **options), registry=registry, llm_factory=llm_factory)
        client = TestClient(create_app(engine=engine), base_url="http://127.0.0.1:8765")
        client.__enter__()
        client.engine = engine
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
        client.engine.close()
