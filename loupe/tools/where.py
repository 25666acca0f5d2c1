"""WHERE: which side of the photo objects are on ('left' / 'right', 'top' / 'bottom', or 'middle').

The question offers the sides (``sides='left,right'``; default ``'left,middle,right'``): one axis,
horizontal (left, right) or vertical (top or upper, bottom or lower), with or without the middle (``middle``,
``centre`` or ``center``); the answer is in the words offered. An object's side is where its box's centre lies: with the middle offered the axis is cut in
thirds (the middle third is the middle band), without it in halves, so that "left or right?" is always
answered with one of the two. An object in a part of the axis the question did not offer ('right' when asked
'left or middle?') is answered with that part's word: pretending it is one of the offered sides would be wrong.

Every object counts (LOC returns the objects it found, a SELECT the ones matching an attribute: "the white
horse"): objects all on one side give that side; objects on several sides give each of them, in the order
the question offered them ('left and right'). No object at all is an error naming what was not found ("no
dog found in photo.jpg; nothing to place"), never a side.
"""

from __future__ import annotations

from loupe.programs.errors import Diagnostic, ToolError
from loupe.programs.values import Image, Objects, ValueType
from loupe.tools.base import Param, Tool
from loupe.tools.imageops import check_objects_fit, require_objects

# side word -> (axis, end): end 0 is the axis' start (left, top), 1 its end
AXES = {"left": ("x", 0), "right": ("x", 1), "top": ("y", 0), "upper": ("y", 0), "bottom": ("y", 1),
        "lower": ("y", 1)}
MIDDLE_WORDS = ("middle", "centre", "center")
DEFAULT_SIDES = "left,middle,right"


def parse_sides(sides) -> tuple[tuple[str, ...], str]:
    """The side words of ``sides`` ('left, right' -> ('left', 'right')) and their axis, 'x' or 'y'.

    ToolError unless they are two or more known words of one axis (the middle may join either)."""
    words = tuple(w.strip().lower() for w in str(sides).split(",") if w.strip()) if isinstance(sides, str) else ()
    known = set(AXES) | set(MIDDLE_WORDS)
    unknown = [w for w in words if w not in known]
    if unknown or len(set(words)) < 2:
        raise ToolError(f"WHERE needs two or more sides of one axis, e.g. sides='left,right' or "
                        f"sides='top,middle,bottom' (known: {', '.join(sorted(known))}); got {sides!r}")
    axes = {AXES[w][0] for w in words if w in AXES}
    if len(axes) != 1:
        raise ToolError(f"WHERE's sides must be of one axis (left/right or top/bottom, and the middle); "
                        f"got {sides!r}")
    return words, axes.pop()


def side_of(centre: float, length: float, axis: str, words: tuple[str, ...]) -> str:
    """The side ``centre`` (pixels along an axis ``length`` long) is on, in the words offered (the axis' own
    word for a side not offered)."""
    ends = [next((w for w in words if AXES.get(w) == (axis, end)), "") for end in (0, 1)]
    low, high = ends[0] or ("left" if axis == "x" else "top"), ends[1] or ("right" if axis == "x" else "bottom")
    middle = next((w for w in words if w in MIDDLE_WORDS), "")
    at = centre / max(length, 1e-9)
    if middle:
        return low if at < 1 / 3 else high if at > 2 / 3 else middle
    return low if at < 0.5 else high


class Where(Tool):
    name = "WHERE"
    description = ("Says which side of the image the objects are on, in the words of `sides` (one axis: "
                   "'left,right', 'top,bottom', with 'middle' for the middle third), in those words; objects on several sides "
                   "give each side ('left and right'); fails when there is no object.")
    inputs = {"image": Param(ValueType.IMAGE, "the image the objects were found in"),
              "box": Param(ValueType.OBJECTS, "the objects to place"),
              "sides": Param(ValueType.TEXT, "the sides to choose from, comma-separated", DEFAULT_SIDES)}
    output = ValueType.TEXT
    cheap = True
    examples = ("ANSWER0=WHERE(image=IMAGE,box=BOX0,sides='left,right')",)

    @classmethod
    def check(cls, args, line):
        sides = args.get("sides")
        if not isinstance(sides, str):
            return []
        try:
            parse_sides(sides)
        except ToolError as error:
            return [Diagnostic(str(error), line)]
        return []

    def execute(self, image: Image, box: Objects, sides: str = DEFAULT_SIDES) -> str:
        words, axis = parse_sides(sides)
        check_objects_fit(image, box, self.name)
        require_objects(image, box, "place")
        length = image.width if axis == "x" else image.height
        found = {side_of((o.box[0] + o.box[2]) / 2 if axis == "x" else (o.box[1] + o.box[3]) / 2, length, axis,
                         words) for o in box}
        order = {w: i for i, w in enumerate(words)}
        return " and ".join(sorted(found, key=lambda w: (order.get(w, len(words)), w)))
