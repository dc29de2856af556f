"""Read OpenFace 2.x output CSVs and turn them into per-image AU presence labels.

OpenFace writes one row per face and frame: ``frame, face_id, timestamp,
confidence, success``, then ``AUxx_r`` (intensity) and ``AUxx_c`` (presence
0/1) for the 18 AUs of :data:`keras_au.aus.OPENFACE_AUS`. Column names may
start with a space (``" AU01_c"``). A frame where OpenFace found no face still
has a row, with ``success`` 0.

Two ways to run OpenFace on a folder of face images are supported:

* ``FaceLandmarkImg -fdir DIR``: one CSV per image, named after the image's
  stem (``m.059w4s_84-FaceId-0.csv``); if it has several faces the most
  confident successful one is used;
* ``FeatureExtraction -fdir DIR``: one CSV for the folder, whose ``frame``
  column (1-based) counts the folder's images in sorted name order. A CSV
  with a file-name column (``file``, ``filename``, ``image``, ``input`` or
  ``path``) is matched by that column instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from keras_au.aus import OPENFACE_AUS, normalize_au

#: Default minimum OpenFace ``confidence`` for a usable face.
MIN_CONFIDENCE = 0.75
NAME_COLUMNS = ("file", "filename", "file_name", "image", "input", "path")


class OpenFaceCsvError(ValueError):
    """An OpenFace CSV that cannot be used; the message names the file."""


@dataclass(frozen=True)
class OpenFaceLabel:
    """AU presence of one image from one OpenFace row."""

    aus: tuple[int, ...]  #: 0/1 in OPENFACE_AUS order
    confidence: float
    source: str
    line: int


@dataclass(frozen=True)
class OpenFaceProblem:
    """An image OpenFace failed on (or could not be matched): left out, reported."""

    image: str
    source: str
    line: int | None
    reason: str


def read_openface_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read one OpenFace CSV with normalised column names.

    Returns:
        The table with stripped column names, the 18 presence columns renamed to
        ``AU01`` … (uint8, ``AUxx_c >= 0.5``), ``confidence`` (float), ``success``
        (int, 1 when absent) and ``line`` (1-based line in the file).

    Raises:
        OpenFaceCsvError: unreadable file or missing ``AUxx_c`` columns.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise OpenFaceCsvError(f"{path}: cannot read OpenFace CSV: {err}") from None
    table.columns = [str(c).strip() for c in table.columns]
    presence = {}
    for column in table.columns:
        if column.upper().endswith("_C") and column.upper().startswith("AU"):
            try:
                presence[normalize_au(column)] = column
            except ValueError:
                continue
    missing = [au for au in OPENFACE_AUS if au not in presence]
    if missing:
        raise OpenFaceCsvError(
            f"{path}: not an OpenFace 2.x AU CSV: no presence columns "
            f"{', '.join(au + '_c' for au in missing)}"
        )
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column not in presence.values():
            out[column] = table[column]
    for au in OPENFACE_AUS:
        values = pd.to_numeric(table[presence[au]], errors="coerce")
        bad = values.isna()
        if bad.any():
            line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise OpenFaceCsvError(f"{path}, line {line}: {presence[au]}: non-numeric value")
        out[au] = (values.to_numpy() >= 0.5).astype(np.uint8)
    for column, default in (("confidence", 1.0), ("success", 1)):
        values = out[column] if column in out else pd.Series(default, index=out.index)
        out[column] = pd.to_numeric(values, errors="coerce").fillna(0)
    out["success"] = out["success"].astype(int)
    out["line"] = np.arange(2, len(out) + 2)
    return out


def expand_csv_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given plus every ``*.csv`` inside the given folders, sorted.

    Raises:
        FileNotFoundError: for a path that does not exist or a folder without CSVs.
    """
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
            if not inside:
                raise FileNotFoundError(f"no OpenFace CSV (*.csv) in folder {path}")
            found += inside
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"OpenFace CSV not found: {path}")
    return found


def collect_labels(
    csv_paths: Iterable[str | os.PathLike],
    images: Sequence[str],
    min_confidence: float = MIN_CONFIDENCE,
    folder_orders: Sequence[Sequence[str]] | None = None,
) -> tuple[dict[str, OpenFaceLabel], list[OpenFaceProblem]]:
    """Match OpenFace rows to images and keep the usable ones.

    Args:
        csv_paths: OpenFace CSVs or folders of them (per image or per folder).
        images: the image file names to label, in any order (matched by name,
            by stem, or — for a per-folder CSV — by sorted position).
        min_confidence: faces with a lower OpenFace ``confidence`` are left out.
        folder_orders: candidate image sequences for a per-folder CSV (frame n
            is the n-th name of the one whose length equals the CSV's frame
            count); default ``[sorted(images)]``.

    Returns:
        ``(labels, problems)``: labels by image name; problems list every image
        OpenFace failed on (``success`` 0, low confidence) and every CSV row
        that names no known image. Images with no OpenFace row at all are not
        in either — the caller reports them.
    """
    by_stem: dict[str, str] = {}
    for name in images:
        by_stem.setdefault(Path(name).stem, name)
    orders = [list(o) for o in folder_orders] if folder_orders else [sorted(images)]
    labels: dict[str, OpenFaceLabel] = {}
    problems: list[OpenFaceProblem] = []
    for path in expand_csv_paths(csv_paths):
        table = read_openface_csv(path)
        name_col = next((c for c in table.columns if c.lower() in NAME_COLUMNS), None)
        if name_col is not None:
            keys = [Path(str(v).replace("\\", "/")).name for v in table[name_col]]
            targets = [k if k in images else by_stem.get(Path(k).stem) for k in keys]
        elif path.stem in by_stem:  # FaceLandmarkImg: one CSV per image
            targets = [by_stem[path.stem]] * len(table)
        else:  # FeatureExtraction -fdir: frame n is the n-th image in name order
            frames = pd.to_numeric(table.get("frame", pd.Series([None])), errors="coerce")
            if frames.isna().any():
                raise OpenFaceCsvError(
                    f"{path}: cannot tell which image each row is: its name matches no "
                    "image, it has no file-name column and no numeric 'frame' column"
                )
            ordered = next((o for o in orders if len(o) == int(frames.max())), None)
            if ordered is None:
                raise OpenFaceCsvError(
                    f"{path}: per-folder CSV has frames 1..{int(frames.max())} but the "
                    f"folders hold {' or '.join(str(len(o)) for o in orders)} images; run "
                    "OpenFace on exactly the images given"
                )
            targets = [ordered[int(f) - 1] for f in frames]
        _pick_rows(table, targets, str(path), min_confidence, labels, problems)
    return labels, problems


def _pick_rows(table: pd.DataFrame, targets: list[str | None], source: str,
               min_confidence: float, labels: dict[str, OpenFaceLabel],
               problems: list[OpenFaceProblem]) -> None:  # fmt: skip
    best: dict[str, tuple[float, int]] = {}
    failed: dict[str, tuple[int, str]] = {}
    for i, target in enumerate(targets):
        line = int(table["line"].iat[i])
        if target is None:
            problems.append(OpenFaceProblem("", source, line, "row names no known image"))
            continue
        conf, ok = float(table["confidence"].iat[i]), int(table["success"].iat[i]) == 1
        if not ok:
            failed.setdefault(target, (line, "OpenFace failed (success 0)"))
        elif conf < min_confidence:
            failed.setdefault(target, (line, f"OpenFace confidence {conf:.2f} < {min_confidence}"))
        elif target not in best or conf > best[target][0]:
            best[target] = (conf, i)
    for target, (conf, i) in best.items():
        aus = tuple(int(table[au].iat[i]) for au in OPENFACE_AUS)
        labels[target] = OpenFaceLabel(aus, conf, source, int(table["line"].iat[i]))
    for target, (line, reason) in failed.items():
        if target not in best and target not in labels:
            problems.append(OpenFaceProblem(target, source, line, reason))
