"""LOC: find the objects a name names. The tool owns what the name means; a backend only computes boxes.

The tool checks the name (a non-empty string), answers VisProg's region words TOP, BOTTOM, LEFT and
RIGHT itself (one box covering that half of the image; no model), and labels what a backend found with
the name sought. Backends (lite CenterNet/BlazeFace, the GPU tier's detectors) get every other call and
return ``Objects`` with pixel boxes (xyxy) of the call's image, or a ToolError for a name they cannot
look for.
"""

from __future__ import annotations

from loupe.programs.errors import ToolError
from loupe.programs.values import Image, Obj, Objects, ValueType
from loupe.tools.base import Param
from loupe.tools.model_tool import ModelTool
from loupe.tools.vocabulary import is_region


def region(image: Image, word: str) -> Objects:
    """VisProg's region keywords: one box (xyxy pixels) covering that half of ``image``, labelled with the word."""
    w, h = image.size
    key = word.strip().upper()
    box = {"TOP": (0, 0, w, h / 2), "BOTTOM": (0, h / 2, w, h), "LEFT": (0, 0, w / 2, h),
           "RIGHT": (w / 2, 0, w, h)}[key]
    return Objects((Obj(box, key, 1.0),), image.size)


def check_name(name) -> str:
    """``name`` stripped; a ToolError when it is not a non-empty string."""
    if not isinstance(name, str) or not name.strip():
        raise ToolError(f"LOC needs a non-empty object name, e.g. object='dog'; got {name!r}")
    return name.strip()


class Loc(ModelTool):
    name = "LOC"
    description = ("Finds every instance of a named object in an image and returns them with pixel boxes. "
                   "The words TOP, BOTTOM, LEFT and RIGHT return that half of the image as one region.")
    inputs = {"image": Param(ValueType.IMAGE, "the image to search"),
              "object": Param(ValueType.TEXT, "what to find, e.g. 'dog' or 'traffic light'")}
    output = ValueType.OBJECTS
    examples = ("BOX0=LOC(image=IMAGE,object='dog')",)

    def prepare(self, call):
        check_name(call.get("object"))

    def answer(self, call):
        return region(call["image"], call["object"]) if is_region(call["object"]) else None

    def finish(self, call, result):
        return result.looking_for(call["object"]) if isinstance(result, Objects) else result

    def affordance(self, args) -> float:
        name = args.get("object")
        if isinstance(name, str) and is_region(name):
            return 1.0
        return super().affordance(args)
