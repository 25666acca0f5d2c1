"""The Loupe program language: parse VisProg text or HuggingGPT task lists, check, run, explain."""

from loupe.programs.errors import ImageError, ProgramError, ToolError, ToolUnavailable
from loupe.programs.ir import Program, Ref, Step


def load_program(source: str, modules=()) -> Program:
    """Parse program text: a JSON task list when it starts with ``[`` or ``{``, else VisProg text.
    A leading UTF-8 byte-order mark (as some editors save) is ignored."""
    from loupe.programs.parser import parse_program
    from loupe.programs.tasks import parse_tasks

    source = source.removeprefix("\ufeff") if isinstance(source, str) else source
    if source.lstrip().startswith(("[", "{")):
        return parse_tasks(source, modules)
    return parse_program(source)


__all__ = ["Program", "Step", "Ref", "ProgramError", "ToolError", "ToolUnavailable", "ImageError",
           "load_program"]
