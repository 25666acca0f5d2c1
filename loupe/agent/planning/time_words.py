"""The planner's reading of a question about a video: what kind of answer about time it wants, about what.

``read_time_question("How many people walk past?")`` -> ``TimeReading("count_tracks", "person", "track")``.
The kinds and their cue phrases are data (``lexicon.json``, block ``time_words``); the object is the first
object the question names, as ``query_facts`` reads it once the one-word cues are taken out ('the dog
disappear' is not a kind of dog). ``video_program`` writes the program: the video
library's example of that kind, with the object, the sampling rate and (for COUNT_FRAMES) ``at`` put in
(a typed substitution on the IR, never text).

Kinds, tried in this order (an earlier kind's cues win: "how many ... at the end" is a count at the end):
``bgblur`` (an edit: "bokeh behind the people"), ``colorpop`` ("colour splash the dog"),
``blur`` ("blur the faces"), ``seen_for`` ("how long"), ``count_end`` / ``count_start`` / ``count_max``
(per-frame counts over time), ``count_tracks`` ("how many ... pass / appear / leave"), ``last_seen`` ("leave",
"last"), ``first_seen`` ("when", "appear").
"""

from __future__ import annotations

from dataclasses import dataclass

from loupe.agent.planning.query_facts import read_query, tokens
from loupe.agent.planning.reading import lexicon
from loupe.programs.ir import Arg, Program, Step
from loupe.programs.video_programs import load_video_library

KINDS = ("bgblur", "colorpop", "blur", "seen_for", "count_end", "count_start", "count_max", "count_tracks", "last_seen", "first_seen")
_MODULE = {"bgblur": "BGBLUR_FRAMES", "colorpop": "COLORPOP_FRAMES", "blur": "BLUR_FRAMES", "seen_for": "SEEN_FOR", "count_end": "COUNT_FRAMES", "count_start": "COUNT_FRAMES",
           "count_max": "COUNT_FRAMES", "last_seen": "LAST_SEEN", "first_seen": "FIRST_SEEN",
           "count_tracks": "COUNT_TRACKS"}
_AT = {"count_end": "end", "count_start": "start", "count_max": "max"}
_KEEPING = ("bgblur", "colorpop")   # edits that keep the object named and change the rest
_TIMING = ("seen_for", "count_end", "count_start", "count_max", "last_seen", "first_seen")  # 2 fps is enough


@dataclass(frozen=True)
class TimeReading:
    """``kind`` (one of ``KINDS``), ``object`` to look for (a detector name such as 'person', 'face'),
    ``purpose`` of the frames for the default sampling rate (``track``: follow or cover objects as they move;
    ``time``: see when)."""

    kind: str
    object: str
    purpose: str


def read_time_question(query: str) -> TimeReading | None:
    """The reading of ``query``, or None when it names no object or asks nothing about counts or time."""
    cues = lexicon()["time_words"]
    words = tokens(query)
    kind = next((k for k in KINDS if _has_cue(words, cues[k])), None)
    single = {phrase for k in KINDS for phrase in cues[k] if " " not in phrase}   # 'leave' is no object's name
    if kind in _KEEPING:   # 'the background' of 'blur the background' is no object's name either
        single |= {word for phrase in cues[kind] if _has_cue(words, [phrase]) for word in phrase.split()}
    named = [m for m in read_query(" ".join(w for w in words if w not in single)).mentions
             if m.kind in ("object", "face") and (not m.negated or kind in _KEEPING)]   # 'all but the dog'
    if kind is None or not named:
        return None
    return TimeReading(kind, named[0].name, "time" if kind in _TIMING else "track")


def _has_cue(words: list[str], phrases: list[str]) -> bool:
    for phrase in phrases:
        cue = phrase.split()
        if any(words[i:i + len(cue)] == cue for i in range(len(words) - len(cue) + 1)):
            return True
    return False


def video_program(reading: TimeReading, fps: float) -> Program:
    """The video library's program for ``reading.kind``, looking for ``reading.object`` at ``fps`` frames
    per second (and, for a per-frame count, ``at`` the start, the end or the most at once)."""
    module = _MODULE[reading.kind]
    example = next(e for e in load_video_library() if module in (s.module for s in e.parsed_program().steps))
    program = example.parsed_program()
    changes = {("FRAMES", "fps"): fps, ("LOC_FRAMES", "object"): reading.object}
    if reading.kind in _AT:
        changes[("COUNT_FRAMES", "at")] = _AT[reading.kind]
    return Program(tuple(_changed(step, changes) for step in program.steps))


def _changed(step: Step, changes: dict) -> Step:
    args = tuple(Arg(a.name, changes.get((step.module, a.name), a.value), a.span, a.value_span) for a in step.args)
    return Step(step.output, step.module, args, step.span, step.module_span)
