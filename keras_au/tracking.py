"""Face tracking by box overlap, so that each face keeps its ``face_id`` in a video.

Detection runs on a subset of frames (every ``detect_every``-th); in between,
each visible face keeps its last detected box. On a detection frame, new
detections are matched to known tracks greedily by intersection over union
(IoU), highest first. A matched track keeps its id and takes the new box; an
unmatched detection starts a new track with the next free id; a track without
a match is hidden, but remembered for ``max_missed`` frames so that a face the
detector misses once or twice gets its old id back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keras_au.faces import FaceBox


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / float(a.area + b.area - inter)


@dataclass
class Track:
    """One face followed through a video."""

    face_id: int
    box: FaceBox
    last_seen: int  #: frame index of the last detection matched to it
    visible: bool = True


class IouTracker:
    """Greedy IoU tracker with stable ids.

    Args:
        iou_threshold: least IoU for a detection to continue a track.
        max_missed: frames a hidden track is remembered after its last match.
    """

    def __init__(self, iou_threshold: float = 0.3, max_missed: int = 30) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
        self.tracks: list[Track] = []
        self.next_id = 0

    def update(self, detections: Sequence[FaceBox], frame: int) -> list[tuple[int, FaceBox]]:
        """Match the detections of ``frame``; return the visible ``(face_id, box)`` by id."""
        self.tracks = [t for t in self.tracks if frame - t.last_seen <= self.max_missed]
        pairs = sorted(
            ((iou(t.box, d), ti, di) for ti, t in enumerate(self.tracks)
             for di, d in enumerate(detections)),
            key=lambda p: -p[0],
        )  # fmt: skip
        used_tracks: set[int] = set()
        used_dets: set[int] = set()
        for overlap, ti, di in pairs:
            if overlap < self.iou_threshold:
                break
            if ti in used_tracks or di in used_dets:
                continue
            used_tracks.add(ti)
            used_dets.add(di)
            track = self.tracks[ti]
            track.box, track.last_seen, track.visible = detections[di], frame, True
        for ti, track in enumerate(self.tracks):
            if ti not in used_tracks:
                track.visible = False
        for di, det in enumerate(detections):
            if di not in used_dets:
                self.tracks.append(Track(self.next_id, det, frame))
                self.next_id += 1
        return self.visible()

    def visible(self) -> list[tuple[int, FaceBox]]:
        """The faces shown now (between detections: their last boxes), by id."""
        return sorted((t.face_id, t.box) for t in self.tracks if t.visible)
