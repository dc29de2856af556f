"""``python -m keras_au.prepare disfa RAW_DIR OUT_DIR``: raw DISFA → ``fine_tune_images``.

Reads the licensed DISFA release as its authors ship it (searched recursively,
names matched case-insensitively)::

    Videos_LeftCamera/LeftVideoSN001_comp.avi
    Videos_RightCamera/RightVideoSN001_Comp.avi
    ActionUnit_Labels/SN001/SN001_au1.txt     # lines "frame,intensity", frames 1-based

and writes every frame's face — largest detected face, cropped, grayscale,
zero-padded, resized to ``size`` (seed: 120) — as
``OUT_DIR/{Left|Right}VideoSNxxx_{frame:08d}.jpg`` (0-based frames: label line
``1,x`` is frame ``00000000``), plus ``fold{1,2,3}_{train,test}.csv`` in the
seed's layout with the 0-5 intensities kept (the ``disfa`` builder binarizes
at ``DISFA_PRESENCE_THRESHOLD``).

A frame with no detected face reuses the previous frame's box (counted in the
report); one before any detection is left out. Frames and labels that do not
pair up (video and label lengths differ) are listed in ``skipped.csv`` and
summarised per video in ``report.json``. Re-running skips frames already
written, so an interrupted run resumes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from keras_au import faces, folds, label_csv
from keras_au.aus import DISFA_AUS, DISFA_PRESENCE_THRESHOLD, normalize_au
from keras_au.prepare import Skipped, write_image, write_report

log = logging.getLogger("keras_au.prepare")
VIDEO_RE = re.compile(r"^(left|right)video(sn\d{3})_comp\.avi$", re.IGNORECASE)
LABEL_RE = re.compile(r"^(sn\d{3})_au(\d+)\.txt$", re.IGNORECASE)
CAMERAS = ("left", "right")
PROGRESS_EVERY = 500


def find_videos(raw_dir: Path) -> dict[tuple[str, str], Path]:
    """``{(subject, camera): path}`` of every ``{Left|Right}VideoSNxxx_comp.avi``."""
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(raw_dir.rglob("*")):
        match = VIDEO_RE.match(path.name)
        if match and path.is_file():
            key = (match.group(2).upper(), match.group(1).lower())
            if key in found:
                raise ValueError(f"two videos for {key[0]} {key[1]}: {found[key]} and {path}")
            found[key] = path
    return found


def find_label_files(raw_dir: Path) -> dict[str, dict[str, Path]]:
    """``{subject: {AU: path}}`` of every ``SNxxx_auN.txt`` (AUs of DISFA_AUS only)."""
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(raw_dir.rglob("*")):
        match = LABEL_RE.match(path.name)
        if match and path.is_file():
            au = normalize_au(match.group(2))
            if au in DISFA_AUS:
                found.setdefault(match.group(1).upper(), {})[au] = path
    return found


def read_au_file(path: Path) -> dict[int, int]:
    """``{1-based frame: intensity}`` from one ``SNxxx_auN.txt``.

    Raises:
        ValueError: naming the file and line for a malformed line, a frame < 1,
            an intensity outside 0-5 or a repeated frame.
    """
    values: dict[int, int] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        parts = [p.strip() for p in text.replace("\t", ",").split(",") if p.strip()]
        try:
            frame, level = (int(float(p)) for p in parts)
        except ValueError:
            raise ValueError(f"{path}, line {number}: expected 'frame,intensity', "
                             f"found {raw!r}") from None  # fmt: skip
        if frame < 1 or not 0 <= level <= label_csv.DISFA_MAX_INTENSITY:
            raise ValueError(f"{path}, line {number}: frame must be >= 1 and intensity 0-5, "
                             f"found {raw!r}")  # fmt: skip
        if frame in values:
            raise ValueError(f"{path}, line {number}: frame {frame} listed twice")
        values[frame] = level
    return values


def subject_labels(subject: str, files: dict[str, Path]) -> np.ndarray:
    """Intensities of one subject, shape (frames, 12) in DISFA_AUS order, row 0 = frame 1.

    Frames some AU file lacks are -1.

    Raises:
        FileNotFoundError: when any of the 12 AU files is missing.
    """
    missing = [au for au in DISFA_AUS if au not in files]
    if missing:
        names = ", ".join(f"{subject}_au{int(au[2:])}.txt" for au in missing)
        raise FileNotFoundError(f"DISFA labels of {subject} incomplete: no {names}")
    per_au = [read_au_file(files[au]) for au in DISFA_AUS]
    length = max((max(v) for v in per_au if v), default=0)
    levels = np.full((length, len(DISFA_AUS)), -1, dtype=np.int8)
    for j, values in enumerate(per_au):
        for frame, level in values.items():
            levels[frame - 1, j] = level
    return levels


def frame_ranges(frames: Sequence[int]) -> str:
    """``[0, 1, 2, 7]`` → ``"0-2, 7"``."""
    out, items = [], sorted(frames)
    i = 0
    while i < len(items):
        j = i
        while j + 1 < len(items) and items[j + 1] == items[j] + 1:
            j += 1
        out.append(str(items[i]) if i == j else f"{items[i]}-{items[j]}")
        i = j + 1
    return ", ".join(out)


def extract_video(path: Path, subject: str, camera: str, out_dir: Path, detector, size: int,
                  detect_every: int, skipped: Skipped) -> dict:  # fmt: skip
    """Write every frame's face crop; return ``{frames, written, resumed, reused_box}``."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {path} (OpenCV has no decoder for it?)")
    expected = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    stats = {"frames": 0, "written": 0, "resumed": 0, "reused_box": 0}
    box, box_frame, start = None, -1, time.monotonic()
    written: list[int] = []
    frame = 0
    while True:
        name = label_csv.disfa_frame_name(subject, camera, frame)
        target = out_dir / name
        if target.exists():
            if not cap.grab():
                break
            stats["resumed"] += 1
            written.append(frame)
        else:
            ok, image = cap.read()
            if not ok:
                break
            if box is None or frame - box_frame >= detect_every or detect_every <= 1:
                face = faces.largest_face(detector.detect(image))
                if face is not None:
                    box, box_frame = face, frame
                elif box is not None:
                    stats["reused_box"] += 1
            if box is None:
                skipped.add(name, str(path), frame + 1, "no face detected (no earlier box)")
            else:
                write_image(target, faces.crop_square(image, box, size))
                stats["written"] += 1
                written.append(frame)
        frame += 1
        if frame % PROGRESS_EVERY == 0:
            rate = frame / max(time.monotonic() - start, 1e-6)
            log.info("%s %s: %d/%d frames (%.0f/s)", subject, camera, frame, expected, rate)
    cap.release()
    stats["frames"] = frame
    stats["frame_list"] = written
    log.info("%s %s: %d frames, %d written, %d already there", subject, camera, frame,
             stats["written"], stats["resumed"])  # fmt: skip
    return stats


def prepare_disfa(
    raw_dir: str | Path,
    out_dir: str | Path,
    *,
    scheme: str = "paper",
    cameras: str | Sequence[str] = CAMERAS,
    threshold: int = DISFA_PRESENCE_THRESHOLD,
    size: int = 120,
    detector: str = "ssd",
    model_path: str | Path | None = None,
    min_confidence: float | None = None,
    detect_every: int = 1,
    binary: bool = False,
) -> dict:
    """Extract, crop and label every DISFA frame; write the six fold CSVs.

    Args:
        raw_dir: the unpacked DISFA release (searched recursively).
        out_dir: output folder (created); frames already there are kept.
        scheme: ``"paper"`` or ``"standard"`` folds (see :mod:`keras_au.folds`).
        cameras: ``"left,right"`` (default), ``"right"`` (the paper's CSVs) or a list.
        threshold: intensity counted as present, for the report's positive
            rates and for ``binary``.
        size: side of the stored square crops.
        detector: face detector name (see :func:`keras_au.faces.make_detector`).
        model_path: detector model file/folder when not the bundled one.
        min_confidence: detector score threshold (detector default when None).
        detect_every: run the detector every N frames, reusing the box between.
        binary: write 0/1 presence instead of intensities.

    Returns:
        The report written to ``out_dir/report.json``.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    chosen = [c.strip().lower() for c in (cameras.split(",") if isinstance(cameras, str)
                                          else cameras) if c.strip()]  # fmt: skip
    if not chosen or any(c not in CAMERAS for c in chosen):
        raise ValueError(f"cameras must be left, right or left,right; got {cameras!r}")
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"DISFA folder not found: {raw_dir}")
    videos = {k: v for k, v in find_videos(raw_dir).items() if k[1] in chosen}
    labels = find_label_files(raw_dir)
    if not videos:
        raise FileNotFoundError(f"no DISFA videos ({'/'.join(chosen)} camera, named like "
                                f"RightVideoSN001_Comp.avi) under {raw_dir}")  # fmt: skip
    if not labels:
        raise FileNotFoundError(f"no DISFA label files (ActionUnit_Labels/SN001/SN001_au1.txt) "
                                f"under {raw_dir}")  # fmt: skip
    levels = {s: subject_labels(s, files) for s, files in labels.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    det = faces.make_detector(detector, model_path, min_confidence)
    skipped, rows, videos_report = Skipped(), {}, []
    for (subject, camera), path in sorted(videos.items()):
        stats = extract_video(path, subject, camera, out_dir, det, size, max(detect_every, 1),
                              skipped)  # fmt: skip
        frames = stats.pop("frame_list")
        subject_levels = levels.get(subject)
        n_labels = 0 if subject_levels is None else len(subject_levels)
        entry = {"subject": subject, "camera": camera, "video": str(path),
                 "label_frames": n_labels, **stats}  # fmt: skip
        unlabelled = [f for f in frames if f >= n_labels or (subject_levels[f] < 0).any()]
        unlabelled_set = set(unlabelled)
        for f in unlabelled:
            skipped.add(label_csv.disfa_frame_name(subject, camera, f), str(path), f + 1,
                        "no label for this frame (not in the fold CSVs)")  # fmt: skip
        if n_labels != stats["frames"] or unlabelled:
            entry["frames_without_labels"] = frame_ranges(unlabelled)
            entry["labels_without_frames"] = frame_ranges(range(stats["frames"], n_labels))
            log.warning("%s %s: video has %d frames, labels %d (frames without labels: %s; "
                        "labels without frames: %s)", subject, camera, stats["frames"], n_labels,
                        entry["frames_without_labels"] or "none",
                        entry["labels_without_frames"] or "none")  # fmt: skip
        for f in frames:
            if f not in unlabelled_set:
                row_levels = subject_levels[f]
                if binary:
                    row_levels = (row_levels >= threshold).astype(int)
                rows.setdefault(subject, []).append(label_csv.disfa_row(
                    label_csv.disfa_frame_name(subject, camera, f), (0, 0, size, size),
                    row_levels.tolist()))  # fmt: skip
        videos_report.append(entry)
    report = {"command": "disfa", "scheme": scheme, "cameras": chosen, "size": size,
              "videos": videos_report, "subjects_without_labels": sorted(
                  {s for s, _ in videos} - set(labels)),
              "subjects_without_video": sorted(set(labels) - {s for s, _ in videos})}  # fmt: skip
    report["fold_files"] = _write_folds(out_dir, rows, scheme)
    all_rows = [r for subject_rows in rows.values() for r in subject_rows]
    if all_rows:
        values = np.array([[int(v) for v in r[2:]] for r in all_rows])
        present = values >= (1 if binary else threshold)
        report["positive_rates"] = dict(zip(DISFA_AUS, np.round(present.mean(0), 4).tolist(),
                                            strict=True))  # fmt: skip
    report["labelled_frames"] = len(all_rows)
    write_report(out_dir, report, skipped)
    return report


def _write_folds(out_dir: Path, rows: dict[str, list], scheme: str) -> dict[str, int]:
    counts = {}
    for fold in (1, 2, 3):
        train, test = folds.fold_subjects(fold, scheme)
        for part, subjects in (("train", train), ("test", test)):
            name = f"fold{fold}_{part}.csv"
            chosen = [r for s in subjects for r in rows.get(s, [])]
            counts[name] = label_csv.write_label_rows(out_dir / name, chosen)
            if not chosen:
                log.warning("%s is empty: none of its subjects were prepared", name)
    return counts
