"""A plugin for CLI tests, loaded through LOUPE_PLUGINS=cli_plugin:setup (stand-in LOC, crashing VQA)."""

from fakes import SlowLoc
from loupe.programs.values import ValueType
from loupe.tools.base import Param, Tool


class InstantLoc(SlowLoc):
    delay = 0.0


class CrashingVqa(Tool):
    name = "VQA"
    description = "A VQA stand-in with a bug, for the internal-error exit code."
    inputs = {"image": Param(ValueType.IMAGE), "question": Param(ValueType.TEXT)}
    output = ValueType.TEXT

    def execute(self, image, question):
        raise ZeroDivisionError("division by zero")


def setup(registry):
    registry.register(InstantLoc)
    registry.register(CrashingVqa)
