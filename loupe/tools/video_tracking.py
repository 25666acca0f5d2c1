"""Tracks from objects found per frame, with ByteTrack (Roboflow's ``trackers`` package).

ByteTrack left ``supervision`` (0.27) for ``trackers``, which takes and gives ``supervision.Detections``.
Each frame's counted objects go in with their scores, and so do the objects seen too faintly to count
(``Objects.faint``): ByteTrack's second association stage uses such low-score boxes only to continue a
track already started (a person half hidden behind another), never to start one.

Boxes are compared with buffered IoU (each box widened by a margin first, ``buffer_for``): at a few
frames a second, a walking person's boxes in consecutive frames barely overlap.

A track counts only when the detector was sure of it in at least one frame (a score of at least the
``sure_score`` the detector's ``Objects`` carry, calibrated on labelled photos) and it was seen in at least
``MIN_FRAMES`` frames: a stone scored 0.37 as a person in every frame is not a person walking past.
"""

from __future__ import annotations

import numpy as np

from loupe.programs.video_values import FrameObjects, Track, Tracks

WIDTHS_PER_S = 1.2        # how far a walking person moves in a second, in box widths (margin = this per sample)
START_SCORE = 0.35        # a track starts from an object scored at least this (the detector counts from ~0.3)
SURE_SCORE = 0.45         # a track counts when scored at least this once, unless the detector says otherwise
MIN_FRAMES = 2            # a track must be seen in this many frames to count (one-frame ghosts)


def track(objects: FrameObjects, memory_s: float) -> Tracks:
    """The distinct objects of ``objects``, each with the times and boxes it was seen; a track unseen for
    ``memory_s`` seconds ends. Track ids count from 1 in order of first appearance."""
    from trackers import BIoU, ByteTrackTracker

    overlap = BIoU(buffer_ratio=buffer_for(objects.fps))
    tracker = ByteTrackTracker(lost_track_buffer=max(1, round(memory_s * 30)), frame_rate=max(objects.fps, 1e-3),
                               track_activation_threshold=START_SCORE, high_conf_det_threshold=START_SCORE,
                               minimum_consecutive_frames=1, minimum_iou_threshold=0.1, iou=overlap)
    seen: dict[int, list] = {}
    best: dict[int, float] = {}
    label, sure = objects.sought, SURE_SCORE
    unmatched: tuple[float, np.ndarray] = (0.0, np.zeros((0, 4)))
    for time, found in objects.frames:
        sure = found.sure_score or sure
        label = found.items[0].name if found.items and label == objects.sought else label
        tracked = tracker.update(_detections(found.items + found.faint))
        for box, score, tracker_id in zip(tracked.xyxy, tracked.confidence, tracked.tracker_id):
            if tracker_id >= 0:
                key = int(tracker_id)
                seen.setdefault(key, _started(unmatched, box, overlap)).append((time, tuple(float(v) for v in box)))
                best[key] = max(best.get(key, 0.0), float(score))
        unmatched = (time, tracked.xyxy[tracked.tracker_id < 0])
    kept = sorted((boxes[0][0], key) for key, boxes in seen.items() if len(boxes) >= MIN_FRAMES and best[key] >= sure)
    size = next((found.image_size for _, found in objects.frames), (0, 0))
    return Tracks(tuple(Track(i, label, tuple(seen[key]), best[key]) for i, (_, key) in enumerate(kept, start=1)),
                  objects.duration_s, objects.sought, size)


def _started(unmatched: tuple[float, np.ndarray], box: np.ndarray, overlap) -> list:
    """A new track's first sighting: ByteTrack gives a track its id at its second frame, so the box of the
    frame before that overlaps it most (the one it was started from) is where it was first seen."""
    time, boxes = unmatched
    if not len(boxes):
        return []
    scores = overlap.compute(np.asarray(box, dtype=float).reshape(1, 4), boxes)[0]
    nearest = int(np.argmax(scores))
    return [(time, tuple(float(v) for v in boxes[nearest]))] if scores[nearest] > 0 else []


def buffer_for(fps: float) -> float:
    """The BIoU margin (a fraction of a box's size) at ``fps`` samples a second: how far a walker moves
    between two samples, from 0.1 (10 fps and more) to 0.8 (1.5 fps and less)."""
    return min(0.8, max(0.1, WIDTHS_PER_S / max(fps, 1e-3)))


def _detections(items):
    """``supervision.Detections`` of ``Obj`` items: xyxy pixel boxes and scores, one class."""
    import supervision as sv

    if not items:
        return sv.Detections.empty()
    return sv.Detections(xyxy=np.array([o.box for o in items], dtype=float),
                         confidence=np.array([o.score for o in items], dtype=float),
                         class_id=np.zeros(len(items), dtype=int))
