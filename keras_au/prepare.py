"""Turn raw data into the paper's seed layouts: ``python -m keras_au.prepare``.

``prepare faces IN_DIR OUT_DIR`` — every image in IN_DIR (recursively) → its
largest face, cropped, grayscale, zero-padded to a square (side kept between
100 and 300 px like the paper's crops, or ``--size``), written as
``OUT_DIR/<name>.jpg``; ``OUT_DIR/faces.csv`` lists ``image,rectsize`` of every
crop. With AU labels (``--openface-csv`` and/or ``--labels``) it also writes
``OUT_DIR/<split-name>_label.csv`` in the pre-training layout, ready for the
``ms_celeb_au`` builder.

``prepare disfa RAW_DIR OUT_DIR`` — the raw DISFA release → every frame's face
crop and the six fold CSVs (see :mod:`keras_au.prepare_disfa`).

Nothing is dropped silently: each command writes ``OUT_DIR/skipped.csv``
(``image,source,line,reason`` of everything left out) and
``OUT_DIR/report.json`` (counts), and logs a warning with the counts. Both
commands are resumable: outputs already written are kept and not redone.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from keras_au import faces, label_csv, openface_csv
from keras_au.aus import DISFA_PRESENCE_THRESHOLD, OPENFACE_AUS, normalize_au

log = logging.getLogger("keras_au.prepare")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
SKIPPED_FILE, REPORT_FILE, FACES_FILE = "skipped.csv", "report.json", "faces.csv"
JPEG_QUALITY = 95


@dataclass
class Skipped:
    """Everything left out, written to ``skipped.csv``."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, image: str, source: str, line: int | None, reason: str) -> None:
        self.rows.append((image, source, "" if line is None else str(line), reason))

    def write(self, out_dir: Path) -> Path:
        path = out_dir / SKIPPED_FILE
        with open(path, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["image", "source", "line", "reason"])
            writer.writerows(self.rows)
        return path


def write_image(path: Path, image: np.ndarray) -> None:
    """Write a JPEG (quality 95) atomically, raising a clear error on failure."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise OSError(f"cannot encode {path}")
    partial = path.with_name(path.name + ".part")  # an interrupted run leaves no half file
    data.tofile(str(partial))
    os.replace(partial, path)


def write_report(out_dir: Path, report: dict, skipped: Skipped) -> None:
    """Write ``report.json`` and ``skipped.csv``; warn when anything was left out."""
    report["skipped"] = len(skipped.rows)
    report["skipped_file"] = str(skipped.write(out_dir))
    (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    if skipped.rows:
        reasons = pd.Series([r[3].split(" (")[0] for r in skipped.rows]).value_counts()
        summary = ", ".join(f"{n}× {r}" for r, n in reasons.items())
        log.warning("%d items left out (%s); see %s", len(skipped.rows), summary,
                    report["skipped_file"])  # fmt: skip


def list_images(in_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Image files under ``in_dir`` (recursive, sorted), skipping ``exclude``."""
    found = []
    for path in sorted(in_dir.rglob("*")):
        if exclude is not None and exclude in path.resolve().parents:
            continue
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
            found.append(path)
    return found


def output_name(in_dir: Path, path: Path) -> str:
    """``IN_DIR/a/b.png`` → ``a__b.jpg`` (flat, as the seed's folders are)."""
    return "__".join(path.relative_to(in_dir).with_suffix("").parts) + ".jpg"


def read_user_labels(path: Path) -> dict[str, tuple[int, tuple[int, ...] | None]]:
    """Read ``--labels``: the seed layout, or a CSV with a header and an ``image`` column.

    A headed CSV may have a ``gender`` column and any of the 18 AU columns
    (``AU01`` / ``AU1`` / ``AU01_c``); AUs are used only when all 18 are there.

    Returns:
        ``{image name: (gender or -1, AUs or None)}``, also keyed by file stem.
    """
    with open(path, newline="", encoding="utf-8") as stream:
        first = next(csv.reader(stream), [])
    out: dict[str, tuple[int, tuple[int, ...] | None]] = {}
    if first and first[0].strip().lower() == "image":
        table = pd.read_csv(path, skipinitialspace=True)
        rename = {}
        for column in table.columns:
            try:
                rename[column] = normalize_au(str(column))
            except ValueError:
                rename[column] = str(column).strip().lower()
        table = table.rename(columns=rename)
        has_aus = all(au in table.columns for au in OPENFACE_AUS)
        for i, record in enumerate(table.to_dict("records"), start=2):
            gender = int(record.get("gender", label_csv.UNKNOWN_GENDER))
            aus = None
            if has_aus:
                values = [record[au] for au in OPENFACE_AUS]
                if any(v not in (0, 1) for v in values):
                    raise label_csv.LabelCsvError(str(path), i, "AU values must be 0 or 1")
                aus = tuple(int(v) for v in values)
            out[str(record["image"])] = (gender, aus)
    else:
        table = label_csv.read_pretrain_labels(path)
        for row in table.itertuples(index=False):
            out[row.image] = (int(row.gender), tuple(int(getattr(row, a)) for a in OPENFACE_AUS))
    for name in list(out):
        out.setdefault(Path(name).stem, out[name])
    return out


def prepare_faces(
    in_dir: str | Path,
    out_dir: str | Path,
    *,
    labels: str | Path | None = None,
    openface: Sequence[str | Path] = (),
    detector: str = "ssd",
    model_path: str | Path | None = None,
    min_confidence: float | None = None,
    openface_min_confidence: float = openface_csv.MIN_CONFIDENCE,
    split_name: str = "train",
    size: int | None = None,
    min_side: int = 100,
    max_side: int = 300,
    min_face: int = 0,
) -> dict:
    """Crop every image's largest face into ``out_dir`` and write label CSVs.

    Args:
        in_dir: folder of photos (searched recursively).
        out_dir: output folder (created); existing crops are kept (resume).
        labels: optional CSV of gender and/or AUs per image (see
            :func:`read_user_labels`).
        openface: OpenFace 2.x CSVs or folders of them (per image or per folder).
        detector: ``ssd``, ``haar`` or ``yunet`` (see :func:`keras_au.faces.make_detector`).
        model_path: detector model file/folder when not the bundled one.
        min_confidence: detector score threshold (detector default when None).
        openface_min_confidence: OpenFace ``confidence`` below which a face's
            labels are left out.
        split_name: the label CSV is ``<split_name>_label.csv``.
        size: resize every crop to ``size``×``size``; otherwise the crop's side
            is clamped to ``[min_side, max_side]``.
        min_side: smallest side of a stored crop when ``size`` is None (seed: 100).
        max_side: largest side of a stored crop when ``size`` is None (seed: 300).
        min_face: faces narrower than this many pixels are left out.

    Returns:
        The report written to ``out_dir/report.json``.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise FileNotFoundError(f"input folder not found: {in_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir.resolve() == in_dir.resolve():
        raise ValueError(f"OUT_DIR must differ from IN_DIR ({in_dir})")
    images = list_images(in_dir, exclude=out_dir.resolve())
    if not images:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {in_dir}")
    names: dict[str, Path] = {}
    for path in images:
        name = output_name(in_dir, path)
        if name in names:
            raise ValueError(f"{path} and {names[name]} would both be written as {name}")
        names[name] = path
    skipped, crops, det = Skipped(), {}, None
    resumed = 0
    for count, (name, path) in enumerate(names.items(), start=1):
        target = out_dir / name
        source = str(path.relative_to(in_dir))
        if target.exists():
            shape = faces.read_image(target).shape
            crops[name] = (shape[1], None)
            resumed += 1
            continue
        if det is None:
            det = faces.make_detector(detector, model_path, min_confidence)
        try:
            image = faces.read_image(path)
        except ValueError as err:
            skipped.add(name, source, None, str(err))
            continue
        face = faces.largest_face(det.detect(image))
        if face is None:
            skipped.add(name, source, None, "no face detected")
            continue
        if face.width < min_face:
            skipped.add(name, source, None, f"face too small ({face.width} px < {min_face})")
            continue
        side = max(face.width, face.height)
        out_side = size or min(max(side, min_side), max_side)
        write_image(target, faces.crop_square(image, face, out_side))
        crops[name] = (out_side, face.confidence)
        if count % 500 == 0:
            log.info("faces: %d/%d images", count, len(names))
    rows = [[n, label_csv.format_rect((0, 0, s, s))] for n, (s, _) in crops.items()]
    label_csv.write_label_rows(out_dir / FACES_FILE, rows)
    report = {"command": "faces", "images": len(names), "faces": len(crops), "resumed": resumed,
              "detector": detector, "faces_file": str(out_dir / FACES_FILE)}  # fmt: skip
    if labels is not None or openface:
        report.update(_write_labels(in_dir, out_dir, names, crops, labels, openface,
                                    openface_min_confidence, split_name, skipped))  # fmt: skip
    write_report(out_dir, report, skipped)
    log.info("faces: %d of %d images have a face crop in %s", len(crops), len(names), out_dir)
    return report


def _write_labels(in_dir, out_dir, names, crops, labels, openface, min_conf, split_name,
                  skipped: Skipped) -> dict:  # fmt: skip
    aliases = {n: n for n in crops}
    for name in crops:  # OpenFace may have run on IN_DIR's files instead of the crops
        aliases.setdefault(names[name].name, name)
    user = read_user_labels(Path(labels)) if labels is not None else {}
    of_labels: dict[str, openface_csv.OpenFaceLabel] = {}
    if openface:
        top_level = [n for n in crops if names[n].parent == in_dir]
        orders = [sorted(crops), [names[n].name for n in sorted(top_level, key=lambda n: names[n])]]
        found, problems = openface_csv.collect_labels(openface, list(aliases), min_conf, orders)
        for alias, value in found.items():
            of_labels.setdefault(aliases[alias], value)
        for p in problems:
            target = aliases.get(p.image, p.image)
            if target not in of_labels:
                skipped.add(target, p.source, p.line, p.reason)
    rows, unknown_gender = [], 0
    reported = {r[0] for r in skipped.rows}
    for name, (side, _) in crops.items():
        stem_keys = (name, names[name].name, Path(name).stem, names[name].stem)
        gender, aus = next((user[k] for k in stem_keys if k in user), (-1, None))
        if openface:
            label = of_labels.get(name)
            if label is None:
                if name not in reported:
                    skipped.add(name, str(names[name].relative_to(in_dir)), None,
                                "no OpenFace row for this image")  # fmt: skip
                continue
            aus = label.aus
        elif aus is None:
            skipped.add(name, str(labels), None, "no AU labels for this image in --labels")
            continue
        unknown_gender += gender == label_csv.UNKNOWN_GENDER
        rows.append(label_csv.pretrain_row(name, (0, 0, side, side), gender, aus))
    path = out_dir / f"{split_name}_label.csv"
    label_csv.write_label_rows(path, rows)
    if unknown_gender:
        log.warning("%d rows have gender -1 (unknown): give --labels with a gender column",
                    unknown_gender)  # fmt: skip
    return {"label_file": str(path), "labelled": len(rows), "unknown_gender": int(unknown_gender)}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m keras_au.prepare`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m keras_au.prepare",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("faces", help="photos → face crops (+ label CSV), pre-training layout")
    f.add_argument("in_dir", type=Path)
    f.add_argument("out_dir", type=Path)
    f.add_argument("--labels", type=Path, help="CSV with gender and/or AU labels per image")
    f.add_argument("--openface-csv", type=Path, nargs="+", default=[],
                   help="OpenFace 2.x output CSVs or folders of them")  # fmt: skip
    f.add_argument("--openface-min-confidence", type=float, default=openface_csv.MIN_CONFIDENCE)
    f.add_argument("--split-name", default="train", help="label file is <NAME>_label.csv")
    f.add_argument("--size", type=int, help="resize crops to SIZE×SIZE (default: keep 100-300)")
    f.add_argument("--min-face", type=int, default=0, help="leave out faces narrower than this")
    d = sub.add_parser("disfa", help="raw DISFA release → frames + fold CSVs (fine_tune_images)")
    d.add_argument("raw_dir", type=Path)
    d.add_argument("out_dir", type=Path)
    d.add_argument("--split", choices=("paper", "standard"), default="paper")
    d.add_argument("--cameras", default="left,right", help="left, right or left,right")
    d.add_argument("--threshold", type=int, default=DISFA_PRESENCE_THRESHOLD,
                   help="intensity counted as present (for the report's positive rates)")  # fmt: skip
    d.add_argument("--size", type=int, default=120, help="side of the stored crops (seed: 120)")
    d.add_argument(
        "--binary",
        action="store_true",
        help="write 0/1 presence (intensity >= threshold) instead of intensities",
    )
    d.add_argument("--detect-every", type=int, default=1,
                   help="run the detector every N frames, reusing the box between")  # fmt: skip
    for p in (f, d):
        p.add_argument("--detector", choices=faces.DETECTORS, default="ssd")
        p.add_argument("--model-path", type=Path, help="detector model file or folder")
        p.add_argument("--min-confidence", type=float, help="detector score threshold")
        p.add_argument("-q", "--quiet", action="store_true", help="warnings only")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 on success, 2 on bad input (message on stderr)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(levelname)s %(message)s")  # fmt: skip
    try:
        if args.command == "faces":
            prepare_faces(
                args.in_dir, args.out_dir, labels=args.labels, openface=args.openface_csv,
                detector=args.detector, model_path=args.model_path,
                min_confidence=args.min_confidence,
                openface_min_confidence=args.openface_min_confidence,
                split_name=args.split_name, size=args.size, min_face=args.min_face,
            )  # fmt: skip
        else:
            from keras_au import prepare_disfa

            prepare_disfa.prepare_disfa(
                args.raw_dir, args.out_dir, scheme=args.split, cameras=args.cameras,
                threshold=args.threshold, size=args.size, detector=args.detector,
                model_path=args.model_path, min_confidence=args.min_confidence,
                detect_every=args.detect_every, binary=args.binary,
            )  # fmt: skip
    except (FileNotFoundError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
