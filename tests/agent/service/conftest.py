"""The service under test: the real app and lite models, with a scripted planner (``oracle:programs.jsonl``)
so that the tests measure the service, not the embedded LLM's speed."""

import pytest

from service_support import make_config


@pytest.fixture
def make_client(tmp_path):
    """``make_client(registry=None, **config options) -> TestClient`` of a fresh app (closed afterwards)."""
    from fastapi.testclient import TestClient

    from agent.service.app import create_app
    from agent.service.engine import Engine

    clients = []

    def make(registry=None, **options):
        engine = Engine(make_config(tmp_path, **options), registry=registry)
        client = TestClient(create_app(engine=engine))
        client.__enter__()
        client.engine = engine
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
        client.engine.close()
