"""Videos in the service: an upload (or an ``--allow-dir`` path) checked by its bytes and its limits, and
the JSON of a video answer.

A video is recognised by its first bytes (the container's signature: ISO BMFF ``ftyp`` for mp4/mov, RIFF
``AVI `` for avi, EBML for mkv/webm), never by its name alone; PyAV then reads its declared size, rate, frame
count and duration, which are checked against ``ServiceConfig.video_limits`` before a frame is decoded. An
upload is streamed to a temporary folder of its own (PyAV reads files), counted against
``max_video_upload_bytes`` as it arrives; the folder goes when its run ends. An edited video is kept (it is
served) until the run's results expire (``VideoAsk.discard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import shutil
import tempfile
from typing import Any

from loupe.agent.service.limits import ServiceError, allowed_path
from loupe.programs.errors import InputError
from loupe.programs.video_values import Video

UPLOAD_PREFIX = "loupe-upload-"
_CHUNK = 1024 * 1024


def video_signature(head: bytes) -> str | None:
    """The container a file's first bytes announce (``mp4``, ``avi``, ``mkv``), or None for anything else."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    return None


async def upload_to_file(upload, name: str, max_bytes: int) -> Path:
    """Stream ``upload`` (a starlette ``UploadFile`` already known to be a video) into a new temporary folder;
    413 as soon as it passes ``max_bytes`` (the folder is removed)."""
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
    path, size = folder / "upload", 0
    try:
        await upload.seek(0)
        with path.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ServiceError(413, f"{name}: more than the video upload limit of {max_bytes} bytes",
                                       "max_video_upload_bytes", max_bytes)
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def named_video(path: str, config) -> VideoAsk | None:
    """The question's video, when ``path`` (under ``--allow-dir``) holds one by its bytes; None: not a video."""
    file = video_path(path, config.allow_dirs)
    return None if file is None else VideoAsk(open_video(file, path, config.video_limits), path)


def with_fps(job: VideoAsk, fps) -> VideoAsk:
    """``job`` sampled at ``fps`` (None: chosen from the question and the clip); 422 for a rate that is no
    positive number (the upload's copy goes)."""
    from loupe.tools.video import check_fps

    try:
        job.fps = None if fps is None else check_fps(fps, job.video)
    except InputError as error:
        job.discard()
        raise ServiceError(422, str(error)) from None
    return job


def video_path(path: str, allow_dirs) -> Path | None:
    """The file a client named, under ``allow_dirs``, if its bytes are a video's (else None: an image)."""
    file = allowed_path(path, allow_dirs)
    try:
        with file.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        raise ServiceError(422, f"{path}: no such file") from None
    return file if video_signature(head) else None


def open_video(file: Path, name: str, limits) -> Video:
    """``file`` probed and checked against ``limits`` (``loupe.tools.video.VideoLimits``): 413 naming the limit
    (``max_bytes``, ``max_duration_s``, ``max_pixels``, ``max_frames``) when it is over one, 422 when PyAV
    cannot read it. The upload's folder is removed on a refusal."""
    from loupe.tools.video import VideoLimits, probe

    try:
        size = file.stat().st_size
        if size > limits.max_bytes:
            raise ServiceError(413, f"{name}: {size} bytes; the limit for a video is {limits.max_bytes} bytes",
                               "max_bytes", limits.max_bytes)
        try:
            video = probe(file, VideoLimits(float("inf"), 2 ** 62, 2 ** 62, limits.max_bytes))
        except InputError as error:
            raise ServiceError(422, str(error).replace(str(file), name)) from None
        measured = {"max_duration_s": (video.duration_s, f"{video.duration_s:.1f} s long"),
                    "max_pixels": (video.width * video.height, f"{video.width}x{video.height} a frame"),
                    "max_frames": (video.frame_count, f"{video.frame_count} frames")}
        for limit, (value, said) in measured.items():
            if value > getattr(limits, limit):
                raise ServiceError(413, f"{name}: {said}; the limit is {getattr(limits, limit):g} ({limit})",
                                   limit, getattr(limits, limit))
        return video
    except BaseException:
        discard_upload(file)
        raise


def discard_upload(file) -> None:
    """Remove an upload's temporary folder (never a client's own file under ``--allow-dir``)."""
    folder = Path(file).parent
    if folder.name.startswith(UPLOAD_PREFIX) and folder.parent == Path(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)


def discard_edit(video: Video | None) -> None:
    """Remove an edited video's temporary folder (the edit tools write each into its own)."""
    from loupe.tools.video_edits import written_by_an_edit

    if video is not None and written_by_an_edit(video):
        shutil.rmtree(Path(video.path).parent, ignore_errors=True)


def video_facts(video: Video, name: str) -> dict:
    """What ``loupe ask --json`` says of the input video (the path is the client's name for it)."""
    return {"path": name, "width": video.width, "height": video.height, "fps": video.fps,
            "frames": video.frame_count, "duration_s": round(video.duration_s, 3), "codec": video.codec}


def check_video_ask(mode: str, right, session, llm) -> None:
    """What a video question cannot use yet (as ``loupe ask`` refuses them): 422 naming them."""
    given = [name for name, used in (("right", right is not None), ("session", bool(session)),
                                     ("mode", mode != "program"), ("llm", bool(llm))) if used]
    if given:
        raise ServiceError(422, f"{', '.join(given)}: not supported for videos yet; a video question is read by "
                                "Loupe's own time words (no LLM)")


@dataclass
class VideoAsk:
    """A question about a video: the probed ``video``, the client's ``name`` for it, the sampling rate asked
    for (``fps``, None: chosen from the question and the clip), and once answered the ``answer``
    (``loupe.agent.video_ask.VideoAnswer``). ``uploaded``: its file is the service's own copy, removed when
    the run ends; its rationale page is then made beforehand (``rationale``), as it decodes the input again."""

    video: Video
    name: str
    fps: float | None = None
    uploaded: bool = False
    answer: Any = None
    rationale: str | None = None

    @property
    def edited(self) -> Video | None:
        return None if self.answer is None else self.answer.edited

    def hide_paths(self, text):
        """``text`` (a step's value or error, a reason, the rationale page) with the server's own file names
        replaced: the upload's copy by the client's name for it, an edit's temporary file by ``edited.mp4``."""
        from loupe.tools.video_edits import EDIT_FOLDER_PREFIX

        if not isinstance(text, str):
            return text
        text = text.replace(self.video.path, self.name)
        return re.sub(rf"[^\s'\"]*/{re.escape(EDIT_FOLDER_PREFIX)}[^/\s'\"]*/edited\.mp4", "edited.mp4", text)

    def discard(self) -> None:
        """Remove the upload's copy (if still there) and the edited video (when the run's results expire)."""
        if self.uploaded:
            discard_upload(self.video.path)
        discard_edit(self.edited)
