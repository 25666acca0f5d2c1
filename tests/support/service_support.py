"""Shared by the service tests: the scripted planner's programs, the test photos, a config maker, a slow LOC,
a live server and a wait for a condition."""

from pathlib import Path
import time

TESTS = Path(__file__).resolve().parents[1]
BENCH = TESTS.parent / "bench"
PHOTOS = TESTS / "data" / "photos"
ORACLE = f"oracle:{TESTS / 'agent' / 'service' / 'programs.jsonl'}"


def make_config(tmp_path, **options):
    from loupe.agent.service.config import ServiceConfig
    from loupe.tools.settings import Settings

    options.setdefault("settings", Settings.from_env())  # what `loupe serve` reads at its start
    options.setdefault("llms", (ORACLE,))
    options.setdefault("use_cache", False)
    return ServiceConfig(cache_path=tmp_path / "programs.sqlite", **options)


def registry_with_slow_loc(delay: float = 0.0):
    """The default registry with its LOC replaced by a stand-in that waits ``delay`` seconds per call."""
    from fakes import SlowLoc
    from loupe.tools.registry import default_registry
    from loupe.tools.settings import Settings

    class Loc(SlowLoc):
        pass

    Loc.delay = delay
    registry = default_registry(Settings.from_env(), plugins=False)
    registry.register(Loc)
    return registry


def photo(name: str):
    """A multipart file tuple of a test photo."""
    return (name, (PHOTOS / name).read_bytes(), "image/jpeg")


class LiveServer:
    """The app served by uvicorn on 127.0.0.1 (a free port) in a thread: ``url``; ``stop()`` ends it."""

    def __init__(self, app):
        import socket
        import threading
        import time

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def until(condition, timeout: float = 10.0) -> bool:
    """Whether ``condition()`` came true within ``timeout`` seconds (polled every 20 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def load_bench(name: str):
    """The module of ``bench/<name>.py`` (bench scripts are files, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
