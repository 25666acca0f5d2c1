"""Writing an edited video with PyAV: every frame decoded, edited and encoded (H.264, the source's frame
rate), audio packets copied untouched; one frame in memory at a time."""

from __future__ import annotations

from typing import Callable

import numpy as np

from loupe.programs.errors import InputError
from loupe.programs.values import Image
from loupe.programs.video_values import Video
from loupe.tools.injected import check_between

CRF = "20"   # H.264 quality: visually close to the source at a sensible size


def rewrite(video: Video, target: str, edit: Callable[[float, Image], Image]) -> Video:
    """Write ``video`` to ``target`` (mp4) with each frame replaced by ``edit(time_s, frame)``; returns the
    written video, probed. Odd sizes are cropped by a pixel to the even size H.264 needs."""
    import av

    from loupe.tools.video import probe

    width, height = video.width - video.width % 2, video.height - video.height % 2
    try:
        with av.open(video.path) as source, av.open(target, "w") as out:
            picture_in = source.streams.video[0]
            picture_out = out.add_stream("libx264", rate=picture_in.average_rate or picture_in.guessed_rate)
            picture_out.width, picture_out.height, picture_out.pix_fmt = width, height, "yuv420p"
            picture_out.options = {"crf": CRF}
            sound = {s: out.add_stream_from_template(s) for s in source.streams.audio}
            for packet in source.demux(picture_in, *sound):
                if packet.stream in sound:
                    if packet.dts is not None:
                        packet.stream = sound[packet.stream]
                        out.mux(packet)
                    continue
                for frame in packet.decode():
                    check_between()  # a cancelled run stops at the next frame
                    out.mux(picture_out.encode(_edited(frame, edit, width, height, av)))
            out.mux(picture_out.encode(None))
    except av.error.FFmpegError as error:
        raise InputError(f"{video.path}: could not be re-encoded ({error.strerror or type(error).__name__})") from None
    return probe(target)


def _edited(frame, edit, width: int, height: int, av):
    pixels = frame.to_ndarray(format="rgb24")[:height, :width]
    time = float(frame.time) if frame.time is not None else 0.0
    done = edit(time, Image(np.ascontiguousarray(pixels)))
    out = av.VideoFrame.from_ndarray(np.ascontiguousarray(done.pixels), format="rgb24")
    out.pts, out.time_base = frame.pts, frame.time_base
    return out
