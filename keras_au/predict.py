"""Run a trained AU model on images, folders, videos and cameras; write an OpenFace-style CSV.

``python -m keras_au.predict --model M INPUT... -o out.csv [--overlay DIR]``

``M`` is a ``.keras`` file or a folder written by ``python -m keras_au.export``.
Each INPUT is an image, a folder (searched recursively for images and
videos) or a video OpenCV can read; ``--camera N`` reads a webcam until
Ctrl-C (or ``--max-frames``). Output: one row per face and frame, at least
one row per video frame (``success`` 0 when no face was found), columns
described in :mod:`keras_au.detector`. Inputs that cannot be processed are
named on stderr and listed in ``out.skipped.csv`` (``input, frames_processed,
reason``; truncated videos appear there too, with the rows they did give);
the others are still processed. Exit code 0 when at least one input was
processed, 2 when none could be (or on a bad model or option).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

from keras_au import cli
from keras_au.faces import DETECTORS
from keras_au.video import DEFAULT_MAX_PIXELS

PROG = "keras_au.predict"
_FORMATS = {"timestamp": "{:.3f}", "confidence": "{:.4f}"}


def skipped_path(out: Path) -> Path:
    """``out.csv`` → ``out.skipped.csv``."""
    return out.with_name(f"{out.stem}.skipped{out.suffix or '.csv'}")


def _cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column.endswith("_p"):
        return f"{value:.6f}"
    return _FORMATS[column].format(value) if column in _FORMATS else value


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    p = argparse.ArgumentParser(
        prog=f"python -m {PROG}",
        description="Detect faces and facial action units in images, folders and videos; "
                    "write one OpenFace-style CSV row per face and frame.",
    )  # fmt: skip
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="image files, folders, videos")
    p.add_argument("-m", "--model", required=True,
                   help=".keras model or keras_au export folder")  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="CSV to write")
    p.add_argument("--overlay", metavar="DIR",
                   help="write annotated copies of the inputs (boxes, ids, active AUs) here")
    p.add_argument("--detector", default="ssd", choices=DETECTORS,
                   help="face detector (default: ssd, the paper's res10 SSD)")
    p.add_argument("--detector-model", metavar="PATH",
                   help="face detector files (ssd: folder; haar: XML; yunet: ONNX)")
    p.add_argument("--min-confidence", type=float, metavar="P",
                   help="face detector threshold (default: the detector's own)")
    p.add_argument("--detect-every", type=int, default=5, metavar="N",
                   help="on video, detect faces on every N-th frame and track them in "
                        "between (default: 5; 1 = every frame)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="faces per AU-model call (default: 32)")
    p.add_argument("--camera", type=int, action="append", default=[], metavar="N",
                   help="also read camera N (until Ctrl-C or --max-frames); repeatable")
    p.add_argument("--max-frames", type=int, metavar="N",
                   help="stop each video/camera after N frames")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                   help=f"refuse larger images (default: {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar for videos (default: when stderr is a terminal)")
    return p


def run(args: argparse.Namespace) -> int:
    """Process the inputs of parsed ``args``; see the module docstring."""
    from keras_au.detector import Detector

    if not args.inputs and not args.camera:
        raise ValueError("give at least one INPUT (file, folder, video) or --camera N")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be >= 1, got {args.max_frames}")
    out = Path(args.output)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    det = Detector(args.model, args.detector, detector_model=args.detector_model,
                   min_confidence=args.min_confidence, detect_every=args.detect_every,
                   batch_size=args.batch_size, max_pixels=args.max_pixels,
                   progress=progress)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    names = det.columns
    rows = faces = 0
    start = time.perf_counter()
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        for row in det.iter_rows(args.inputs, overlay_dir=args.overlay, cameras=args.camera,
                                 max_frames=args.max_frames):  # fmt: skip
            writer.writerow([_cell(c, row.get(c)) for c in names])
            rows += 1
            faces += row["success"]
    report = skipped_path(out)
    with report.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["input", "frames_processed", "reason"])
        for skip in det.skipped:
            writer.writerow([skip.input, skip.frames_processed, skip.reason])
            print(f"{PROG}: {'skipped' if not skip.frames_processed else 'warning'} "
                  f"{skip.input}: {skip.reason}", file=sys.stderr)  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"{PROG}: {len(det.processed)} input(s), {rows} rows, {faces} faces in {seconds:.1f} s "
          f"-> {out}; {len(det.skipped)} problem(s) listed in {report}", file=sys.stderr)  # fmt: skip
    if not det.processed:
        print(f"{PROG}: error: none of the inputs could be processed", file=sys.stderr)
        return cli.EXIT_USAGE
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m keras_au.predict``."""
    args = build_parser().parse_args(argv)
    return cli.run(lambda: run(args), PROG)


if __name__ == "__main__":
    raise SystemExit(main())
