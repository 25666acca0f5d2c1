"""Edits on video: every frame of the clip re-encoded at its own rate, with its audio copied as it was.

BLUR_FRAMES hides the objects found in the sampled frames (LOC_FRAMES, e.g. faces) in every frame: a frame
between two samples gets the boxes of both (a moving face is covered all the way from one sample to the
next), scaled from the sampled frames' size to the video's own.

COLORPOP_FRAMES and BGBLUR_FRAMES keep tracked objects (TRACK) as they are and turn the rest grey or blur
it: a frame between two samples gets each track's box moved linearly between its two sightings
(``Track.box_at``), so the kept region follows a walking person instead of covering both places. Boxes,
not masks (no segmenter runs per frame), with the same soft edge as the image edits; a frame in which no
track is in view is all background (all grey, all blurred).
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
import tempfile

from loupe.programs.errors import ToolError
import numpy as np

from loupe.programs.values import Image, Obj, Objects, ValueType
from loupe.programs.video_values import FrameObjects, Tracks, Video
from loupe.tools.base import Param, Tool
from loupe.tools.bgblur import BLUR_FRACTION
from loupe.tools.blur import Blur
from loupe.tools.imageops import composite, feather, feather_radius, gaussian_blur, greyscale, objects_mask

EDIT_FOLDER_PREFIX = "loupe-video-"   # an edit's temporary folder (see written_by_an_edit)


class BlurFrames(Tool):
    name = "BLUR_FRAMES"
    description = ("Blurs the objects found in the sampled frames (e.g. faces) in every frame of the video and "
                   "writes a new video at the same frame rate, with the audio kept.")
    inputs = {"video": Param(ValueType.VIDEO, "the video to edit"),
              "objects": Param(ValueType.FRAME_OBJECTS, "what to hide, from LOC_FRAMES on that video")}
    output = ValueType.VIDEO
    writes_image = True
    examples = ("VIDEO0=BLUR_FRAMES(video=VIDEO,objects=FACES0)",)

    def execute(self, video, objects):
        from loupe.tools.video_writer import rewrite

        if not any(len(found) for _, found in objects.frames):
            raise ToolError(f"no {objects.sought or 'object'} was found in the video; nothing to blur")
        blur = Blur(self.context)
        times = [t for t, _ in objects.frames]

        def edit(time: float, image: Image) -> Image:
            boxes = _boxes_at(objects, times, time, image.size)
            return blur.execute(image, boxes) if len(boxes) else image

        return rewrite(video, _temporary_target(), edit)


class _KeepTracked(Tool):
    """An edit of everything but the tracked objects, in every frame (``background`` says what to do)."""

    abstract = True
    inputs = {"video": Param(ValueType.VIDEO, "the video to edit"),
              "tracks": Param(ValueType.TRACKS, "the objects to keep as they are, from TRACK on that video")}
    output = ValueType.VIDEO
    writes_image = True
    verb = ""

    def execute(self, video, tracks):
        from loupe.tools.video_writer import rewrite

        if not len(tracks):
            raise ToolError(f"no {tracks.sought or 'object'} was tracked in the video; nothing to {self.verb}")

        def edit(time: float, image: Image) -> Image:
            keep = feather(objects_mask(image, tracked_at(tracks, time, image.size)), feather_radius(image))
            return image.with_pixels(composite(self.background(image), image.pixels, keep))

        return rewrite(video, _temporary_target(), edit)

    def background(self, image: Image) -> np.ndarray:
        raise NotImplementedError


class ColorPopFrames(_KeepTracked):
    name = "COLORPOP_FRAMES"
    description = ("Keeps the tracked objects in colour and turns the rest of every frame black and white; writes "
                   "a new video at the same frame rate, with the audio kept.")
    verb = "keep in colour"
    examples = ("VIDEO0=COLORPOP_FRAMES(video=VIDEO,tracks=TRACK0)",)

    def background(self, image):
        return greyscale(image.pixels)


class BgBlurFrames(_KeepTracked):
    name = "BGBLUR_FRAMES"
    description = ("Blurs the background of every frame, keeping the tracked objects (e.g. a person) sharp; "
                   "writes a new video at the same frame rate, with the audio kept.")
    verb = "keep sharp"
    examples = ("VIDEO0=BGBLUR_FRAMES(video=VIDEO,tracks=TRACK0)",)

    def background(self, image):
        return gaussian_blur(image.pixels, max(3.0, BLUR_FRACTION * min(image.width, image.height)))


def _temporary_target() -> str:
    """Where an edit writes its video: a file in a new temporary folder, which the front end moves."""
    return str(Path(tempfile.mkdtemp(prefix=EDIT_FOLDER_PREFIX)) / "edited.mp4")


def written_by_an_edit(video: Video) -> bool:
    """Whether ``video`` is an edit's output in its own temporary folder (a front end may move it and remove
    the folder), rather than, say, the input video a program returned as it was."""
    folder = Path(video.path).resolve().parent
    return folder.name.startswith(EDIT_FOLDER_PREFIX) and folder.parent == Path(tempfile.gettempdir()).resolve()


def tracked_at(tracks: Tracks, time: float, size: tuple[int, int]) -> Objects:
    """The tracks in view at ``time`` (``Track.box_at``), their boxes scaled to a frame of ``size``."""
    scale_x = size[0] / max(tracks.frame_size[0], 1) if tracks.frame_size[0] else 1.0
    scale_y = size[1] / max(tracks.frame_size[1], 1) if tracks.frame_size[1] else 1.0
    found = []
    for track in tracks:
        box = track.box_at(time)
        if box is not None:
            found.append(Obj((box[0] * scale_x, box[1] * scale_y, box[2] * scale_x, box[3] * scale_y), track.label,
                             track.score))
    return Objects(tuple(found), size, tracks.sought)


def _boxes_at(objects: FrameObjects, times: list[float], time: float, size: tuple[int, int]) -> Objects:
    """The boxes of the samples just before and just after ``time``, scaled to a frame of ``size``."""
    after = bisect_right(times, time)
    found = []
    for index in {max(after - 1, 0), min(after, len(times) - 1)}:
        sampled = objects.frames[index][1]
        scale_x = size[0] / max(sampled.image_size[0], 1)
        scale_y = size[1] / max(sampled.image_size[1], 1)
        found += [Obj((o.box[0] * scale_x, o.box[1] * scale_y, o.box[2] * scale_x, o.box[3] * scale_y), o.label,
                      o.score) for o in sampled]
    return Objects(tuple(found), size, objects.sought)
