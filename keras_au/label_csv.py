"""Read and write the paper's label CSVs (``pre_train_images``, ``fine_tune_images``).

Both layouts have no header row and a quoted ``rectsize`` box column:

* pre-training (``train_label.csv``, ``test_label.csv``):
  ``image,rectsize,gender,`` + the 18 OpenFace AUs (:data:`keras_au.aus.OPENFACE_AUS`),
  e.g. ``m.059w4s_84-FaceId-0.jpg,"(0, 0, 300, 300)",0,1,0,...``;
* DISFA (``fold{1,2,3}_{train,test}.csv``): ``image,rectsize,`` + the 12 DISFA AUs
  (:data:`keras_au.aus.DISFA_AUS`), values 0/1 or intensities 0-5,
  e.g. ``RightVideoSN005_00003268.jpg,"(0,0,120,120)",0,0,...``.

Readers return a :class:`pandas.DataFrame` with one row per CSV row and the
columns ``image, left, top, right, bottom``, the label columns, and ``source``
/ ``line`` (file name and 1-based line number, for reports). Any malformed row
raises :class:`LabelCsvError` naming the file, the line and what was wrong.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import pandas as pd

from keras_au.aus import DISFA_AUS, DISFA_PRESENCE_THRESHOLD, OPENFACE_AUS

#: Column names of the pre-training layout, in file order.
PRETRAIN_COLUMNS: tuple[str, ...] = ("image", "rectsize", "gender", *OPENFACE_AUS)
#: Column names of the DISFA fold CSV layout, in file order.
DISFA_COLUMNS: tuple[str, ...] = ("image", "rectsize", *DISFA_AUS)
#: Largest DISFA intensity.
DISFA_MAX_INTENSITY = 5
#: Gender value written when it is not known (the seed itself only has 0/1).
UNKNOWN_GENDER = -1

_RECT_RE = re.compile(r"^\(?\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*\)?$")
_DISFA_NAME_RE = re.compile(r"^(left|right)video(sn\d{3})_(\d+)\.\w+$", re.IGNORECASE)

PathOrStream = str | os.PathLike | TextIO


class LabelCsvError(ValueError):
    """A label CSV row that cannot be read; the message names file and line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}, line {line}: {message}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class DisfaFrame:
    """What a DISFA frame file name says: ``RightVideoSN005_00003268.jpg``."""

    subject: str  #: ``"SN005"``
    camera: str  #: ``"left"`` or ``"right"``
    frame: int  #: 0-based frame index in the video (label line ``frame + 1``)


def parse_rect(text: str) -> tuple[int, int, int, int]:
    """Parse a ``rectsize`` box string.

    Args:
        text: ``"(0, 0, 300, 300)"`` or ``"(0,0,120,120)"`` — ``(left, top, right,
            bottom)`` in pixels.

    Returns:
        ``(left, top, right, bottom)`` as ints.

    Raises:
        ValueError: when the text is not four integers or the box is empty
            (``right <= left`` or ``bottom <= top``) or starts at a negative
            coordinate.
    """
    match = _RECT_RE.match(text.strip())
    if not match:
        raise ValueError(f"bad box {text!r}: expected '(left, top, right, bottom)'")
    left, top, right, bottom = (int(v) for v in match.groups())
    if right <= left or bottom <= top:
        raise ValueError(f"empty box {text!r}: right must exceed left, bottom top")
    if left < 0 or top < 0:
        raise ValueError(f"bad box {text!r}: negative coordinates")
    return left, top, right, bottom


def format_rect(box: Sequence[int], compact: bool = False) -> str:
    """Format a box as the seed does.

    Args:
        box: ``(left, top, right, bottom)``.
        compact: ``True`` for the DISFA style ``"(0,0,120,120)"``, ``False`` for
            the pre-training style ``"(0, 0, 300, 300)"``.
    """
    sep = "," if compact else ", "
    return "(" + sep.join(str(int(v)) for v in box[:4]) + ")"


def parse_disfa_name(name: str) -> DisfaFrame:
    """Split a DISFA frame file name into subject, camera and 0-based frame.

    ``parse_disfa_name("RightVideoSN005_00003268.jpg")`` returns
    ``DisfaFrame(subject="SN005", camera="right", frame=3268)``.

    Raises:
        ValueError: if the name is not ``{Left|Right}VideoSNxxx_<frame>.<ext>``.
    """
    match = _DISFA_NAME_RE.match(os.path.basename(name.strip()))
    if not match:
        raise ValueError(
            f"not a DISFA frame name: {name!r}; expected e.g. 'RightVideoSN005_00003268.jpg'"
        )
    camera, subject, frame = match.groups()
    return DisfaFrame(subject=subject.upper(), camera=camera.lower(), frame=int(frame))


def disfa_frame_name(subject: str, camera: str, frame: int, ext: str = ".jpg") -> str:
    """Inverse of :func:`parse_disfa_name`: ``("SN005", "right", 3268)`` → name."""
    return f"{camera.capitalize()}Video{subject.upper()}_{int(frame):08d}{ext}"


def _open(source: PathOrStream) -> tuple[TextIO, str, bool]:
    if hasattr(source, "read"):
        return source, str(getattr(source, "name", "<stream>")), False  # type: ignore[return-value]
    path = os.fspath(source)
    return open(path, newline="", encoding="utf-8"), path, True


def _rows(source: PathOrStream, name: str | None, n_columns: int, layout: str):
    """Yield ``(line, fields)`` of the non-blank rows, checking the column count."""
    stream, default_name, owned = _open(source)
    name = name or default_name
    try:
        text = stream.read()
    finally:
        if owned:
            stream.close()
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != n_columns:
            raise LabelCsvError(
                name,
                line,
                f"expected {n_columns} columns ({layout}), found {len(fields)}",
            )
        yield name, line, [f.strip() for f in fields]


def _int_field(name: str, line: int, column: str, value: str) -> int:
    try:
        number = float(value)
    except ValueError:
        raise LabelCsvError(name, line, f"{column}: non-numeric value {value!r}") from None
    if not number.is_integer():
        raise LabelCsvError(name, line, f"{column}: expected an integer, found {value!r}")
    return int(number)


def _box_fields(name: str, line: int, fields: list[str]) -> tuple[str, tuple[int, ...]]:
    if not fields[0]:
        raise LabelCsvError(name, line, "empty image name")
    try:
        box = parse_rect(fields[1])
    except ValueError as err:
        raise LabelCsvError(name, line, f"rectsize: {err}") from None
    return fields[0], box


def read_pretrain_labels(source: PathOrStream, *, name: str | None = None) -> pd.DataFrame:
    """Read a pre-training label CSV (``image,rectsize,gender,`` + 18 AUs).

    Args:
        source: a path or an open text stream.
        name: the file name used in error messages (default: the path).

    Returns:
        Columns ``image, left, top, right, bottom, gender`` (int8; 0/1, or -1
        when unknown), the 18 AU columns (uint8 0/1), ``source`` and ``line``.

    Raises:
        LabelCsvError: wrong column count, bad box, or a label that is not 0/1.
    """
    records = []
    for src, line, fields in _rows(source, name, len(PRETRAIN_COLUMNS), "pre-training"):
        image, box = _box_fields(src, line, fields)
        gender = _int_field(src, line, "gender", fields[2])
        if gender not in (0, 1, UNKNOWN_GENDER):
            raise LabelCsvError(src, line, f"gender: expected 0 or 1, found {fields[2]!r}")
        aus = []
        for au, value in zip(OPENFACE_AUS, fields[3:], strict=True):
            v = _int_field(src, line, au, value)
            if v not in (0, 1):
                raise LabelCsvError(src, line, f"{au}: expected 0 or 1, found {value!r}")
            aus.append(v)
        records.append((image, *box, gender, *aus, src, line))
    frame = pd.DataFrame.from_records(
        records,
        columns=["image", "left", "top", "right", "bottom", "gender", *OPENFACE_AUS,
                 "source", "line"],
    )  # fmt: skip
    frame["gender"] = frame["gender"].astype(np.int8)
    frame[list(OPENFACE_AUS)] = frame[list(OPENFACE_AUS)].astype(np.uint8)
    return frame


def intensity_column(au: str) -> str:
    """Name of the DataFrame column that holds an AU's DISFA intensity."""
    return f"{au}_intensity"


def read_disfa_labels(
    source: PathOrStream,
    *,
    name: str | None = None,
    values: str = "auto",
    threshold: int = DISFA_PRESENCE_THRESHOLD,
) -> pd.DataFrame:
    """Read a DISFA fold CSV (``image,rectsize,`` + 12 AUs).

    Args:
        source: a path or an open text stream.
        name: the file name used in error messages (default: the path).
        values: ``"presence"`` (values are 0/1), ``"intensity"`` (0-5), or
            ``"auto"``: intensities when any value in the file exceeds 1.
        threshold: intensity at or above which an AU is present.

    Returns:
        Columns ``image, left, top, right, bottom``, the 12 AU presence columns
        (uint8 0/1), the 12 ``AUxx_intensity`` columns (int8; -1 when the file
        only has 0/1), ``subject`` (``"SN005"``), ``camera`` (``"left"``/
        ``"right"``), ``frame`` (0-based), ``source`` and ``line``.
        ``frame.attrs["has_intensity"]`` says which kind of values were read.

    Raises:
        LabelCsvError: wrong column count, bad box, bad frame name, a value
            that is not an integer in 0-5 (0/1 for ``values="presence"``).
    """
    if values not in ("auto", "presence", "intensity"):
        raise ValueError(f"values must be auto, presence or intensity, not {values!r}")
    top_value = 1 if values == "presence" else DISFA_MAX_INTENSITY
    records = []
    for src, line, fields in _rows(source, name, len(DISFA_COLUMNS), "DISFA"):
        image, box = _box_fields(src, line, fields)
        try:
            parsed = parse_disfa_name(image)
        except ValueError as err:
            raise LabelCsvError(src, line, str(err)) from None
        levels = []
        for au, value in zip(DISFA_AUS, fields[2:], strict=True):
            v = _int_field(src, line, au, value)
            if not 0 <= v <= top_value:
                raise LabelCsvError(
                    src, line, f"{au}: expected a value in 0..{top_value}, found {value!r}"
                )
            levels.append(v)
        records.append(
            (image, *box, *levels, parsed.subject, parsed.camera, parsed.frame, src, line)
        )
    columns = ["image", "left", "top", "right", "bottom", *DISFA_AUS,
               "subject", "camera", "frame", "source", "line"]  # fmt: skip
    frame = pd.DataFrame.from_records(records, columns=columns)
    levels_arr = frame[list(DISFA_AUS)].to_numpy(dtype=np.int16).reshape(-1, len(DISFA_AUS))
    has_intensity = values == "intensity" or (values == "auto" and bool((levels_arr > 1).any()))
    if has_intensity:
        presence = (levels_arr >= threshold).astype(np.uint8)
        intensity = levels_arr.astype(np.int8)
    else:
        presence = levels_arr.astype(np.uint8)
        intensity = np.full_like(levels_arr, -1, dtype=np.int8)
    for i, au in enumerate(DISFA_AUS):
        frame[au] = presence[:, i]
    for i, au in enumerate(DISFA_AUS):
        frame[intensity_column(au)] = intensity[:, i]
    frame["frame"] = frame["frame"].astype(np.int32)
    order = columns[: 5 + len(DISFA_AUS)] + [intensity_column(a) for a in DISFA_AUS] + columns[-5:]
    frame = frame[order]
    frame.attrs["has_intensity"] = has_intensity
    return frame


def merge_labels(frames: Iterable[pd.DataFrame], label_columns: Sequence[str]) -> pd.DataFrame:
    """Concatenate label tables and keep each image once.

    Rows of the same image with identical ``label_columns`` are merged (the
    first is kept). Intensity columns equal to -1 ("unknown") match anything.

    Args:
        frames: tables from :func:`read_pretrain_labels` / :func:`read_disfa_labels`.
        label_columns: the columns that must agree between duplicates.

    Returns:
        One row per image, first occurrence order.

    Raises:
        LabelCsvError: when two rows of the same image disagree, naming both
            files and lines.
    """
    frames = list(frames)
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)] or frames[:1]
    table = pd.concat(nonempty, ignore_index=True) if len(nonempty) > 1 else nonempty[0]
    table = table.reset_index(drop=True)
    if not len(table) or not table.duplicated("image").any():
        return table
    codes = table.groupby("image", sort=False).ngroup().to_numpy()
    _, first = np.unique(codes, return_index=True)  # first row of each image
    ref_row = first[codes]
    has_intensity = np.zeros(len(table), dtype=bool)
    for col in label_columns:
        cur = table[col].to_numpy()
        if col.endswith("_intensity"):
            known = cur != -1
            has_intensity |= known
            lo = pd.Series(np.where(known, cur, 127)).groupby(codes).transform("min").to_numpy()
            bad = known & (cur != np.where(lo == 127, cur, lo))
            ref = np.array([_first_known(table, col, codes, c, lo) for c in codes[bad][:1]])
        else:
            bad = cur != cur[ref_row]
            ref = ref_row[bad][:1]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            j = int(ref[0])
            raise LabelCsvError(
                str(table["source"].iat[i]),
                int(table["line"].iat[i]),
                f"{table['image'].iat[i]}: {col} is {cur[i]} here but {cur[j]} in "
                f"{table['source'].iat[j]}, line {table['line'].iat[j]}",
            )
    order = np.lexsort((np.arange(len(table)), ~has_intensity, codes))
    chosen = order[np.r_[True, codes[order][1:] != codes[order][:-1]]]
    return table.iloc[np.sort(chosen)].reset_index(drop=True)


def _first_known(table: pd.DataFrame, col: str, codes: np.ndarray, code: int, lo) -> int:
    """Row index of the first row of image ``code`` whose ``col`` equals the group minimum."""
    rows = np.flatnonzero((codes == code) & (table[col].to_numpy() == lo))
    return int(rows[0])


def pretrain_row(image: str, box: Sequence[int], gender: int, aus: Sequence[int]) -> list[str]:
    """Fields of one pre-training CSV row (write with :func:`write_label_rows`)."""
    if len(aus) != len(OPENFACE_AUS):
        raise ValueError(f"expected {len(OPENFACE_AUS)} AU values, got {len(aus)}")
    return [image, format_rect(box), str(int(gender)), *(str(int(v)) for v in aus)]


def disfa_row(image: str, box: Sequence[int], levels: Sequence[int]) -> list[str]:
    """Fields of one DISFA CSV row (0/1 or intensities, in DISFA_AUS order)."""
    if len(levels) != len(DISFA_AUS):
        raise ValueError(f"expected {len(DISFA_AUS)} AU values, got {len(levels)}")
    return [image, format_rect(box, compact=True), *(str(int(v)) for v in levels)]


def write_label_rows(path: str | os.PathLike, rows: Iterable[Sequence[str]]) -> int:
    """Write rows in the seed's CSV dialect (no header, box quoted); return the count."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
