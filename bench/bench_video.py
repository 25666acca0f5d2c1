"""Video questions on the CPU: frames analysed per second, wall time of a counting question on a one-minute
720p clip, and peak memory on a 20 s and a 60 s clip (flat if the decoding streams).

    python3 bench/bench_video.py [--seconds 20 60] [--fps N] [--question Q]   # needs `loupe models pull`

The clips are made once (into the user cache's ``bench-video`` folder) from Debian opencv-doc's vtest.avi
(768x576, 10 fps, 79.5 s): scaled to 1280x720 and written at 30 fps (each source frame three times), H.264,
so that decoding costs what a real 720p/30 clip costs. Each clip is then asked "How many people walk past?"
in a fresh process (``loupe.agent.video_ask.answer_video``, default sampling unless ``--fps``), which reports its
wall time (probe, models loaded, frames decoded and analysed, tracking), LOC_FRAMES' wall time and frame
count, its CPU seconds (``process_time``: what a shared machine's load does not inflate) and its peak resident
memory (``ru_maxrss``, models included). The machine's load average is printed first.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
import json
import os
from pathlib import Path
import resource
import subprocess
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
QUESTION = "How many people walk past?"


def make_clip(seconds: int, folder: Path) -> Path:
    """A ``seconds``-long 1280x720 30 fps H.264 clip of vtest.avi (looped when longer than it)."""
    import av

    target = folder / f"vtest-720p-{seconds}s.mp4"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    written, partial = 0, target.with_suffix(".part.mp4")
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        while written < seconds * 30:
            with av.open(str(SOURCE)) as source:
                for frame in source.decode(video=0):
                    for _ in range(3):
                        if written >= seconds * 30:
                            break
                        picture = frame.reformat(width=1280, height=720, format="yuv420p")
                        picture.pts, picture.time_base = written, Fraction(1, 30)
                        out.mux(stream.encode(picture))
                        written += 1
        out.mux(stream.encode(None))
    partial.rename(target)
    return target


def measure_one(path: str, fps: float | None, question: str = QUESTION) -> dict:
    """Ask ``question`` on one clip in this process; its times, frame count and peak memory (an edit's video
    is written to a temporary folder and removed)."""
    import shutil

    from loupe.agent.video_ask import answer_video
    from loupe.tools.settings import Settings
    from loupe.tools.video import probe

    start, cpu = time.perf_counter(), time.process_time()
    answer = answer_video(probe(path), question, fps, Settings.from_env())
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if answer.edited is not None:
        shutil.rmtree(Path(answer.edited.path).parent)
        answer.text = f"edited: {answer.edited.frame_count} frames at {answer.edited.fps:g} fps"
    loc = next(step for step in answer.steps if step["module"] == "LOC_FRAMES")
    frames = answer.frames
    return {"clip": Path(path).name, "status": answer.status, "answer": answer.text, "sampled_fps": answer.fps,
            "frames": frames, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "loc_frames_s": round(loc["wall_ms"] / 1000, 2),
            "frames_per_s": round(frames / max(loc["wall_ms"] / 1000, 1e-9), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--fps", type=float, default=None, help="sampling rate (default: chosen by the clip)")
    parser.add_argument("--question", default=QUESTION, help="what to ask (an edit too, e.g. a colour pop)")
    parser.add_argument("--one", help=argparse.SUPPRESS)   # the child process: measure this clip
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.fps, args.question)))
        return
    from loupe.tools.lite.pack import cache_dir

    folder = cache_dir() / "bench-video"
    print(json.dumps({"load_average_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}))
    for seconds in args.seconds:
        clip = make_clip(seconds, folder)
        command = [sys.executable, __file__, "--one", str(clip), "--question", args.question]
        command += ["--fps", str(args.fps)] if args.fps else []
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
