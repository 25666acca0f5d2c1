"""Re-make the clips of this folder from Debian's opencv-doc (see SOURCES.md): ``python cut_clips.py``.

Each cut is re-encoded with PyAV as H.264 (libx264, CRF 28, yuv420p) in MP4, scaled to the size given,
at the source's frame rate; no audio (the sources have none).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

SOURCE = Path("/usr/share/doc/opencv-doc/examples/data")
CUTS = {  # output name: (source file, first frame, frame count, width, height)
    "pedestrians.mp4": ("vtest.avi", 0, 60, 640, 480),
    "pedestrians_later.mp4": ("vtest.avi", 400, 56, 640, 480),
    "megamind.mp4": ("Megamind.avi", 0, 48, 360, 264),
}


def cut(source: Path, target: Path, first: int, count: int, width: int, height: int) -> None:
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        rate = Fraction(inp.streams.video[0].average_rate).limit_denominator(1001)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "28", "preset": "slow"}
        for index, frame in enumerate(inp.decode(video=0)):
            if index >= first + count:
                break
            if index >= first:
                picture = frame.reformat(width=width, height=height, format="yuv420p")
                picture.pts = None
                out.mux(stream.encode(picture))
        out.mux(stream.encode(None))


if __name__ == "__main__":
    here = Path(__file__).parent
    for name, (source, first, count, width, height) in CUTS.items():
        cut(SOURCE / source, here / name, first, count, width, height)
        print(name, (here / name).stat().st_size, "bytes")
