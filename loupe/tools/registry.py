"""The tool registry: which tools a program may call, each built once per registry.

Registering is one line (``registry.register(MyTool)``, or ``@registry.register`` on the class).
Built-in tools and backends go through the same path as plugins, which are found through the
``loupe.tools`` entry-point group, or named in ``Settings.plugins`` (env ``LOUPE_PLUGINS``,
comma-separated ``module:function``): each is a function ``setup(registry)``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
import threading
from typing import Iterator

from loupe.programs.errors import ProgramError, did_you_mean
from loupe.tools.backends import BackendSpec
from loupe.tools.base import Tool
from loupe.tools.context import ToolContext
from loupe.tools.settings import Settings

PLUGIN_GROUP = "loupe.tools"


class ToolRegistry:
    def __init__(self, context: ToolContext | None = None):
        self.context = context or ToolContext()
        self._classes: dict[str, type[Tool]] = {}
        self._instances: dict[str, Tool] = {}
        self._lock = threading.Lock()

    def register(self, tool_class: type[Tool]) -> type[Tool]:
        """Add a tool class (replacing one of the same name). Returns the class, so it works as a decorator."""
        if not (isinstance(tool_class, type) and issubclass(tool_class, Tool)) or not tool_class.name:
            raise TypeError(f"register() takes a Tool subclass with a name; got {tool_class!r}")
        self._classes[tool_class.name] = tool_class
        self._instances.pop(tool_class.name, None)
        return tool_class

    def register_backend(self, spec: BackendSpec) -> None:
        self.context.add_backend(spec)

    def __contains__(self, name: str) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._classes))

    def names(self) -> list[str]:
        return sorted(self._classes)

    def tool_class(self, name: str) -> type[Tool]:
        if name not in self._classes:
            raise ProgramError.at(f"unknown module {name}", text=name,
                                  suggestion=did_you_mean(name, self._classes, "modules"))
        return self._classes[name]

    def tool(self, name: str) -> Tool:
        """The one instance of tool ``name`` in this registry (made on first use)."""
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self.tool_class(name)(self.context)
            return self._instances[name]

    __getitem__ = tool

    def cards(self, names: list[str] | None = None) -> str:
        """Tool cards for the planner's prompt (``Tool.card``), one after another in name order."""
        return "\n".join(self.tool_class(n).card() for n in (names or self.names()))


def default_registry(settings: Settings, plugins: bool = True) -> ToolRegistry:
    """A registry with every built-in tool and backend, plus installed plugins and ``settings.plugins``.

    ``settings``: what the entry point read (``Settings.from_env()`` in the CLI, the service, ``Agent``);
    the tools see them as ``context.settings``. Nothing here reads the environment."""
    from loupe.tools.builtin import setup

    if not isinstance(settings, Settings):
        raise TypeError("default_registry needs the Settings the entry point built (e.g. Settings.from_env()), "
                        f"got {type(settings).__name__}")
    registry = ToolRegistry(ToolContext(settings))
    setup(registry)
    if plugins:
        for entry in entry_points(group=PLUGIN_GROUP):
            entry.load()(registry)
        for path in settings.plugins:
            _load_plugin(path)(registry)
    return registry


def _load_plugin(path: str):
    from loupe.tools.backends import resolve

    if ":" not in path:
        raise ProgramError.at(f"LOUPE_PLUGINS entry {path!r} must be module:function")
    try:
        return resolve(path)
    except (ImportError, AttributeError) as error:
        raise ProgramError.at(f"cannot load the plugin {path}: {error}") from None
