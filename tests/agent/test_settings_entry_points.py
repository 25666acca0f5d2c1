"""Issue 22: the settings are built once per entry point and passed down; nothing deeper reads the environment.

Entry points (the only callers of ``Settings.from_env()`` in the package): the command line
(``loupe.agent.cli.settings_of``: one read per process, shared by every command, ``loupe serve`` and ``loupe mcp``
included) and the Python API (``loupe.agent.api.Agent`` when no settings are given). Everything else takes a
``settings`` argument. ``Settings()`` (the defaults) reads nothing; its few uses are listed below.
"""

import ast
from pathlib import Path

from click.testing import CliRunner
import pytest

from loupe.agent.llm.factory import make_llm, resolve_llm_spec
from loupe.agent.service.config import ServiceConfig
from fake_llm import FakeLLM
from loupe.tools.registry import default_registry
from loupe.tools.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("loupe/agent", "loupe/tools", "loupe/programs")
#: where ``Settings.from_env()`` may be called: (file, function)
ENTRY_POINTS = {("loupe/agent/cli.py", "settings_of"), ("loupe/agent/api.py", "__init__"),
                # not yet passed down: the cache folder of callers that give none (tools.settings.cache_root:
                # the lite pack's and embedded LLM's files, loupe/agent/planning/program_cache.default_cache_path)
                ("loupe/tools/settings.py", "cache_root")}
#: where ``Settings()`` (the defaults, nothing read) stands in for settings not given
DEFAULTS = {("loupe/tools/context.py", "__init__"), ("loupe/agent/llm/openai_provider.py", "__init__"),
            ("loupe/agent/evaluation/systems.py", "make_registry"), ("loupe/agent/evaluation/systems.py", "make_model"),
            ("loupe/agent/evaluation/systems.py", "__init__")}


def _calls():
    """(file, enclosing function, kind) of every ``*.from_env(...)`` and bare ``Settings()`` in the package."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            rel = path.relative_to(ROOT).as_posix()

            def visit(node, function):
                for child in ast.iter_child_nodes(node):
                    name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
                    if isinstance(child, ast.Call):
                        target = child.func
                        if isinstance(target, ast.Attribute) and target.attr == "from_env":
                            found.append((rel, function, "from_env"))
                        elif (isinstance(target, ast.Name) and target.id == "Settings"
                              and not child.args and not child.keywords):
                            found.append((rel, function, "Settings()"))
                    visit(child, name)

            visit(tree, "<module>")
    return found


def test_only_entry_points_read_the_environment():
    calls = _calls()
    readers = {(f, fn) for f, fn, kind in calls if kind == "from_env"}
    assert readers <= ENTRY_POINTS, f"Settings.from_env() outside the entry points: {sorted(readers - ENTRY_POINTS)}"
    assert {("loupe/agent/cli.py", "settings_of"), ("loupe/agent/api.py", "__init__")} <= readers
    defaults = {(f, fn) for f, fn, kind in calls if kind == "Settings()"}
    assert defaults <= DEFAULTS, f"Settings() where settings should be passed down: {sorted(defaults - DEFAULTS)}"


@pytest.fixture
def no_environment(monkeypatch):
    """Settings.from_env raises: whatever is run under it must get its settings passed in."""
    def refuse(*args, **kwargs):
        raise AssertionError("Settings.from_env() called below an entry point")

    monkeypatch.setattr(Settings, "from_env", classmethod(refuse))


def test_deep_functions_take_their_settings(no_environment, tmp_path):
    settings = Settings(llm="ollama:m", ollama_host="box:1", api_token="t", cache_dir=tmp_path)
    assert resolve_llm_spec(None, settings) == "ollama:m"
    llm = make_llm(settings=settings)
    assert (llm.base_url, llm.model) == ("http://box:1/v1", "m")
    config = ServiceConfig.from_options(settings)
    assert config.llms == ("ollama:m",) and config.token == "t" and config.settings is settings
    registry = default_registry(settings, plugins=False)
    assert registry.context.settings is settings
    from loupe.agent.api import Agent

    with Agent(llm=FakeLLM(), registry=registry, settings=settings) as agent:
        assert agent.settings is settings and agent.deps.cache.path.parent == tmp_path
    with pytest.raises(TypeError, match="Settings"):
        default_registry(None)
    with pytest.raises(TypeError, match="Settings"):
        make_llm("local")
    assert make_llm(llm) is llm  # a ready-made model needs no settings


def test_the_service_passes_its_settings_down(no_environment, tmp_path):
    from loupe.agent.service.engine import Engine

    settings = Settings(cache_dir=tmp_path, backends={"LOC": "nowhere"})
    engine = Engine(ServiceConfig(settings=settings, use_cache=False), llm_factory=lambda spec: FakeLLM())
    try:
        assert engine.registry.context.settings is settings
    finally:
        engine.close()


def test_the_command_line_reads_the_environment_once(monkeypatch, tmp_path):
    from loupe.agent.cli import main

    reads = []
    original = Settings.from_env.__func__

    def counted(cls, *args, **kwargs):
        reads.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Settings, "from_env", classmethod(counted))
    program = tmp_path / "p.txt"
    program.write_text("FINAL_RESULT=RESULT(var='2')\n")
    result = CliRunner().invoke(main, ["check", str(program)])
    assert result.exit_code == 0, result.output
    assert reads == [1]
    reads.clear()
    result = CliRunner().invoke(main, ["tools", "--json"])
    assert result.exit_code == 0, result.output
    assert reads == [1]
