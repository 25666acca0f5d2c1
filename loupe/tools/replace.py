"""REPLACE: repaint objects as a prompt describes. The tool owns what a prompt means: an empty prompt or
one of :data:`REMOVE_WORDS` asks to remove the objects (:func:`is_removal`); backends paint."""

from __future__ import annotations

from loupe.programs.values import ValueType
from loupe.tools.base import Param
from loupe.tools.imageops import require_objects
from loupe.tools.model_tool import ModelTool
from loupe.tools.vocabulary import normalize

REMOVE_WORDS = frozenset({"", "nothing", "background", "remove", "erase", "delete", "remove it", "erase it",
                          "empty", "none", "nothing there", "remove them", "erase them", "the background"})


def is_removal(prompt: str | None) -> bool:
    """Whether ``prompt`` asks to remove the objects rather than paint something in their place."""
    return normalize(prompt or "") in REMOVE_WORDS


class Replace(ModelTool):
    name = "REPLACE"
    description = ("Replaces objects in an image by what the prompt describes ('a teapot', 'blue bus'); "
                   "an empty prompt or 'nothing' removes them.")
    inputs = {"image": Param(ValueType.IMAGE, "the image to edit"),
              "object": Param(ValueType.OBJECTS, "the objects to replace"),
              "prompt": Param(ValueType.TEXT, "what to put there")}
    output = ValueType.IMAGE
    writes_image = True
    examples = ("IMAGE0=REPLACE(image=IMAGE,object=OBJ1,prompt='a teapot')",)

    def prepare(self, call):
        require_objects(call["image"], call["object"], "replace")
