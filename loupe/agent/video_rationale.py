"""The rationale page of a video question: the run's steps (``loupe.programs.rationale.render_page``), then a strip
of sampled frames with each tracked object's box and id, a plot of the objects found per frame over time,
and the table of tracks (id, first and last time seen).

The strip's frames are decoded again (a second pass over the clip, one frame at a time); at most
``STRIP_FRAMES`` of them, evenly spaced, are kept, shrunk for the page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from loupe.programs.rationale import render_page
from loupe.programs.rationale_values import image_html
from loupe.programs.trace import Execution
from loupe.programs.values import Obj, Objects, safe_text
from loupe.programs.video_values import FrameObjects, Tracks

STRIP_FRAMES = 8
STRIP_SIDE = 320        # pixels, the longer side of a frame in the strip
PLOT_SIZE = (640, 160)  # pixels of the counts plot


def write_video_html(path, execution: Execution, question: str, status: str, reason: str) -> Path:
    """Write the page for ``execution`` (a video program's run) to ``path``; returns the path."""
    path = Path(path)
    path.write_text(render_video_html(execution, question, status, reason), encoding="utf-8")
    return path


def render_video_html(execution: Execution, question: str, status: str, reason: str) -> str:
    """The page for ``execution`` (a video program's run), as text (``loupe serve`` answers it)."""
    found = _value(execution, FrameObjects)
    tracks = _value(execution, Tracks)
    sections = []
    if status != "ok" and reason:
        sections.append((f"Status: {status}", f"<p>{escape(reason)}</p>"))
    if found is not None and len(found):
        sections.append(("Frames", _strip(execution, found, tracks)))
        sections.append(("Objects found per frame", _plot(found)))
    if tracks is not None:
        sections.append(("Tracks", _tracks_table(tracks)))
    return safe_text(render_page(execution, question, sections))


def _value(execution: Execution, kind):
    return next((r.value for r in execution.records if isinstance(r.value, kind)), None)


def _strip(execution: Execution, found: FrameObjects, tracks: Tracks | None) -> str:
    """Up to ``STRIP_FRAMES`` evenly spaced sampled frames, with the tracks' boxes (or, without tracks, the
    objects found) drawn and labelled."""
    from loupe.tools.drawing import draw_objects

    frames = next(r.inputs["frames"] for r in execution.records if isinstance(r.value, FrameObjects))
    times = [t for t, _ in found.frames]
    chosen = {times[round(i * (len(times) - 1) / max(STRIP_FRAMES - 1, 1))] for i in range(min(STRIP_FRAMES, len(times)))}
    shown = dict(found.frames)
    cells = []
    for time, image in frames:
        if time not in chosen:
            continue
        objects = _tracked_at(tracks, time, image.size) if tracks is not None else shown[time]
        cells.append(f"<figure style='display:inline-block;margin:4px'>{image_html(draw_objects(image, objects), STRIP_SIDE)}"
                     f"<figcaption>{time:.1f} s: {len(objects)}</figcaption></figure>")
    return "<div>" + "".join(cells) + "</div>"


def _tracked_at(tracks: Tracks, time: float, size) -> Objects:
    """The tracks seen at ``time``, as objects labelled with their track ids."""
    return Objects(tuple(Obj(box, f"{track.label} {track.id}", track.score)
                         for track in tracks for at, box in track.seen if abs(at - time) < 1e-6), size)


def _plot(found: FrameObjects) -> str:
    """An inline SVG line of how many objects each sampled frame had, over time."""
    width, height = PLOT_SIZE
    counts = [(t, len(objects)) for t, objects in found.frames]
    top = max(1, max(c for _, c in counts))
    end = max(found.duration_s, counts[-1][0], 1e-3)
    points = " ".join(f"{40 + (width - 50) * t / end:.1f},{height - 20 - (height - 30) * c / top:.1f}"
                      for t, c in counts)
    return (f"<svg width='{width}' height='{height}' role='img' aria-label='objects found per frame'>"
            f"<line x1='40' y1='{height - 20}' x2='{width - 10}' y2='{height - 20}' stroke='#888'/>"
            f"<line x1='40' y1='10' x2='40' y2='{height - 20}' stroke='#888'/>"
            f"<text x='4' y='16' font-size='12'>{top}</text><text x='4' y='{height - 20}' font-size='12'>0</text>"
            f"<text x='{width - 60}' y='{height - 4}' font-size='12'>{end:.1f} s</text>"
            f"<polyline fill='none' stroke='#4878a8' stroke-width='2' points='{points}'/></svg>")


def _tracks_table(tracks: Tracks) -> str:
    if not len(tracks):
        return f"<p class='none'>no {escape(tracks.sought or 'object')} tracked</p>"
    rows = "".join(f"<tr><td>{t.id}</td><td>{escape(t.label)}</td><td>{t.first_s:.2f}</td><td>{t.last_s:.2f}</td>"
                   f"<td>{len(t.seen)}</td><td>{t.score:.2f}</td></tr>" for t in tracks)
    return ("<table><tr><th>track</th><th>label</th><th>first seen (s)</th><th>last seen (s)</th>"
            f"<th>frames</th><th>best score</th></tr>{rows}</table>")
