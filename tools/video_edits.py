"""Edits on video: every frame of the clip re-encoded at its own rate, with its audio copied as it was.

BLUR_FRAMES hides the objects found in the sampled frames (LOC_FRAMES, e.g. faces) in every frame: a frame
between two samples gets the boxes of both (a moving face is covered all the way from one sample to the
next), scaled from the sampled frames' size to the video's own.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
import tempfile

from programs.errors import ToolError
from programs.values import Image, Obj, Objects, ValueType
from programs.video_values import FrameObjects, Video
from tools.base import Param, Tool
from tools.blur import Blur


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
        from tools.video_writer import rewrite

        if not any(len(found) for _, found in objects.frames):
            raise ToolError(f"no {objects.sought or 'object'} was found in the video; nothing to blur")
        blur = Blur(self.context)
        times = [t for t, _ in objects.frames]

        def edit(time: float, image: Image) -> Image:
            boxes = _boxes_at(objects, times, time, image.size)
            return blur.execute(image, boxes) if len(boxes) else image

        target = Path(tempfile.mkdtemp(prefix="loupe-video-")) / "edited.mp4"   # the front end moves it
        return rewrite(video, str(target), edit)


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
