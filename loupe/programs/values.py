"""The values a program computes: one frozen type per kind.

* ``Image``   — RGB pixels, ``uint8`` array of shape ``[H, W, 3]``, read-only. ``source`` names the file.
* ``Obj``     — one object: pixel box ``(x1, y1, x2, y2)`` in the coordinates of the image it was found in,
  ``score`` in 0..1, ``label``, optional boolean ``mask`` of shape ``[H, W]`` (same size as that image),
  optional ``category`` (set by CLASSIFY) and ``text`` (set by OCR); ``guesses``: other labels a detector
  gave the same object, ``(label, score)`` best first (a horse also scored as a sheep).
* ``Objects`` — an immutable sequence of ``Obj`` found in one image of size ``(width, height)``.
* Number, Text, Bool, TextList are plain ``int | float``, ``str``, ``bool``, ``tuple[str, ...]``.
* Video, Frames, FrameObjects, Tracks: the values of programs over videos (``loupe.programs.video_values``).

``ValueType`` names these kinds for tool signatures and the static checker.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import enum
from typing import Callable, Iterator, Sequence

import numpy as np


class ValueType(enum.Enum):
    IMAGE = "Image"
    OBJECTS = "Objects"
    NUMBER = "Number"
    TEXT = "Text"
    BOOL = "Bool"
    TEXT_LIST = "TextList"
    NONE = "None"
    ANY = "Any"
    # videos (``loupe.programs.video_values``)
    VIDEO = "Video"
    FRAMES = "Frames"
    FRAME_OBJECTS = "FrameObjects"
    TRACKS = "Tracks"

    def accepts(self, other: "ValueType") -> bool:
        """Whether a value of type ``other`` may be passed where ``self`` is declared."""
        if self is ValueType.ANY or other is ValueType.ANY or self is other:
            return True
        return self is ValueType.NUMBER and other is ValueType.BOOL

    def __str__(self) -> str:
        return self.value


def _frozen_array(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    if array.flags.writeable:
        array = array.copy() if array.base is not None else array
        array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Image:
    """An RGB image. ``pixels``: ``uint8`` ``[H, W, 3]``, read-only; never modified in place."""

    pixels: np.ndarray
    source: str = ""

    def __post_init__(self):
        px = self.pixels
        if not isinstance(px, np.ndarray) or px.ndim != 3 or px.shape[2] != 3 or px.dtype != np.uint8:
            got = f"{getattr(px, 'dtype', type(px).__name__)} {getattr(px, 'shape', '')}"
            raise ValueError(f"Image pixels must be uint8 [H, W, 3]; got {got}")
        if px.shape[0] < 1 or px.shape[1] < 1:
            raise ValueError(f"Image must be at least 1x1 pixels; got {px.shape[1]}x{px.shape[0]}")
        object.__setattr__(self, "pixels", _frozen_array(px))

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.width, self.height

    def to_pil(self):
        from PIL import Image as PILImage

        return PILImage.fromarray(np.array(self.pixels))

    @classmethod
    def from_pil(cls, pil, source: str = "") -> "Image":
        return cls(np.asarray(pil.convert("RGB"), dtype=np.uint8), source)

    def with_pixels(self, pixels: np.ndarray) -> "Image":
        """A new image with other pixels and the same source (for edits)."""
        return Image(np.ascontiguousarray(pixels, dtype=np.uint8), self.source)

    def crop(self, box: Sequence[float]) -> "Image":
        """The pixels inside ``box`` = ``(x1, y1, x2, y2)`` (clipped to the image, at least 1x1)."""
        x1, y1, x2, y2 = clip_box(box, self.width, self.height)
        return Image(self.pixels[y1:y2, x1:x2], self.source)

    def __eq__(self, other) -> bool:
        return isinstance(other, Image) and np.array_equal(self.pixels, other.pixels)

    __hash__ = None

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        return f"Image({self.width}x{self.height}{src})"


def clip_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """Integer pixel box inside a ``width`` x ``height`` image, at least one pixel wide and high."""
    x1, y1, x2, y2 = (float(v) for v in box)
    x1 = int(min(max(np.floor(x1), 0), width - 1))
    y1 = int(min(max(np.floor(y1), 0), height - 1))
    x2 = int(min(max(np.ceil(x2), x1 + 1), width))
    y2 = int(min(max(np.ceil(y2), y1 + 1), height))
    return x1, y1, x2, y2


@dataclass(frozen=True, eq=False)
class Obj:
    """One object found in an image. ``box`` is ``(x1, y1, x2, y2)`` in pixels, x to the right, y down."""

    box: tuple[float, float, float, float]
    label: str = ""
    score: float = 1.0
    mask: np.ndarray | None = None
    category: str = ""
    text: str = ""
    guesses: tuple[tuple[str, float], ...] = ()

    def __post_init__(self):
        box = tuple(float(v) for v in self.box)
        object.__setattr__(self, "guesses", tuple((str(label), float(score)) for label, score in self.guesses))
        if len(box) != 4:
            raise ValueError(f"Obj box must be (x1, y1, x2, y2); got {self.box!r}")
        if box[2] < box[0] or box[3] < box[1]:
            raise ValueError(f"Obj box must have x2 >= x1 and y2 >= y1; got {box}")
        object.__setattr__(self, "box", box)
        object.__setattr__(self, "score", float(self.score))
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.ndim != 2:
                raise ValueError(f"Obj mask must be 2-D [H, W]; got shape {mask.shape}")
            object.__setattr__(self, "mask", _frozen_array(mask.astype(bool, copy=False)))

    @property
    def name(self) -> str:
        """What to call this object: its category when classified, else its text (OCR), else its label."""
        return self.category or self.text or self.label

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return (x2 - x1) * (y2 - y1)

    @property
    def center(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    def region_mask(self, width: int, height: int) -> np.ndarray:
        """Boolean ``[H, W]`` mask of this object: its mask when it has one, else its box."""
        if self.mask is not None and self.mask.shape == (height, width):
            return self.mask
        x1, y1, x2, y2 = clip_box(self.box, width, height)
        region = np.zeros((height, width), dtype=bool)
        region[y1:y2, x1:x2] = True
        return region

    def evolve(self, **changes) -> "Obj":
        return replace(self, **changes)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Obj):
            return NotImplemented
        same_mask = (self.mask is None and other.mask is None) or (
            self.mask is not None and other.mask is not None and np.array_equal(self.mask, other.mask)
        )
        return same_mask and (self.box, self.label, self.score, self.category, self.text) == (
            other.box, other.label, other.score, other.category, other.text)

    __hash__ = None


@dataclass(frozen=True, eq=False)
class Objects:
    """Objects found in one image of ``image_size`` = ``(width, height)``; immutable, ordered.

    ``sought`` says what was looked for ('kite', 'man in the yellow shirt', 'face'; '' = unknown), so
    that a step given none of them can say what was not found. It is not part of equality.

    ``faint`` are objects a detector saw too faintly to count, crop, draw or edit (below its counting
    threshold, above the floor of its unreliable band): they are not among ``items``, no step sees them, and
    they are counted for nothing; with ``sure_score`` (the score from which the detector's evidence proved
    reliable on labelled photos) they tell the agent that an answer rests on weak evidence. Selecting or
    filtering items drops them; they are not part of equality."""

    items: tuple[Obj, ...] = ()
    image_size: tuple[int, int] = (0, 0)
    sought: str = ""
    faint: tuple[Obj, ...] = ()
    sure_score: float = 0.0   # the detector's evidence is reliable from this score on (0: not known)

    def __post_init__(self):
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "faint", tuple(self.faint))
        for item in self.items + self.faint:
            if not isinstance(item, Obj):
                raise TypeError(f"Objects holds Obj values; got {type(item).__name__}")

    @classmethod
    def empty(cls, image_size: tuple[int, int] = (0, 0)) -> "Objects":
        return cls((), image_size)

    @classmethod
    def from_arrays(cls, boxes, scores, labels: Sequence[str], image_size: tuple[int, int],
                    masks=None) -> "Objects":
        """From ``boxes`` ``[N, 4]`` xyxy pixels, ``scores`` ``[N]``, ``labels`` (N), ``masks`` ``[N, H, W]``."""
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        scores = np.asarray(scores, dtype=float).reshape(-1)
        if len(scores) != len(boxes) or len(labels) != len(boxes):
            raise ValueError(f"from_arrays needs as many scores ({len(scores)}) and labels ({len(labels)}) "
                             f"as boxes ({len(boxes)})")
        return cls(tuple(
            Obj(tuple(b), str(lab), float(s), None if masks is None else masks[i])
            for i, (b, s, lab) in enumerate(zip(boxes, scores, labels))
        ), image_size)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Obj]:
        return iter(self.items)

    def __getitem__(self, index):
        """An ``Obj`` for an int; a new ``Objects`` for a slice, a boolean mask or a list of indices."""
        if isinstance(index, (int, np.integer)):
            return self.items[index]
        if isinstance(index, slice):
            return Objects(self.items[index], self.image_size, self.sought)
        index = np.asarray(index)
        if index.dtype == bool:
            if len(index) != len(self.items):
                raise IndexError(f"boolean index of length {len(index)} for {len(self.items)} objects")
            index = np.flatnonzero(index)
        return Objects(tuple(self.items[int(i)] for i in index), self.image_size, self.sought)

    def filter(self, keep: Callable[[Obj], bool]) -> "Objects":
        return Objects(tuple(o for o in self.items if keep(o)), self.image_size, self.sought)

    def with_items(self, items) -> "Objects":
        return Objects(tuple(items), self.image_size, self.sought)

    def looking_for(self, sought: str) -> "Objects":
        """The same objects, saying they were found looking for ``sought``."""
        return replace(self, sought=str(sought))

    @property
    def boxes(self) -> np.ndarray:
        """``float`` ``[N, 4]`` xyxy pixel boxes."""
        return np.array([o.box for o in self.items], dtype=float).reshape(-1, 4)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.items)

    def union_mask(self) -> np.ndarray:
        """Boolean ``[H, W]`` union of every object's mask (or box when it has none)."""
        width, height = self.image_size
        region = np.zeros((height, width), dtype=bool)
        for obj in self.items:
            region |= obj.region_mask(width, height)
        return region

    def __eq__(self, other) -> bool:
        return isinstance(other, Objects) and self.image_size == other.image_size and \
            len(self) == len(other) and all(a == b for a, b in zip(self.items, other.items))

    __hash__ = None

    def __repr__(self) -> str:
        return f"Objects({len(self.items)}: {', '.join(self.labels[:8])}{'...' if len(self) > 8 else ''})"


def type_of(value) -> ValueType:
    """The ``ValueType`` of a runtime value."""
    if isinstance(value, Image):
        return ValueType.IMAGE
    if isinstance(value, Objects):
        return ValueType.OBJECTS
    if isinstance(value, bool):
        return ValueType.BOOL
    if isinstance(value, (int, float)):
        return ValueType.NUMBER
    if isinstance(value, str):
        return ValueType.TEXT
    if value is None:
        return ValueType.NONE
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return ValueType.TEXT_LIST
    from loupe.programs.video_values import video_type_name

    name = video_type_name(value)
    return ValueType(name) if name else ValueType.ANY


def as_text(value) -> str:
    """How a value reads as an answer: booleans as yes/no, whole floats without ``.0``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (tuple, list)):
        return ", ".join(as_text(v) for v in value)
    if isinstance(value, Objects):
        if len(value) and all(o.text for o in value):  # OCR lines read as the text, in reading order
            return " ".join(o.text for o in value)
        return ", ".join(value.labels)
    from loupe.programs.video_values import video_text

    return video_text(value) or str(value)


def safe_text(text: str) -> str:
    """``text`` as any UTF-8 output can carry it: a lone surrogate (``\\ud800``, from an escape in a
    program or JSON, or an undecodable file name) is shown as its escape instead of failing the write."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
