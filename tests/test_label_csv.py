"""Tests of keras_au.label_csv and keras_au.folds against the real seed label files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from keras_au import folds, label_csv
from keras_au.aus import DISFA_AUS, OPENFACE_AUS

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed_data"
PRETRAIN_TEST = SEED / "pre_train_images" / "test_label.csv"
FOLD1_TEST = SEED / "fine_tune_images" / "fold1_test.csv"
needs_seed = pytest.mark.skipif(
    not (PRETRAIN_TEST.exists() and FOLD1_TEST.exists()), reason="seed label files not found"
)

PRE_ROW = 'm.059w4s_84-FaceId-0.jpg,"(0, 0, 300, 300)",0,1,0,1,1,0,0,0,0,0,1,1,1,0,0,0,1,1,0\n'
DISFA_ROW = 'RightVideoSN005_00003268.jpg,"(0,0,120,120)",0,0,0,0,0,0,0,0,0,0,0,0\n'


@pytest.mark.parametrize(
    ("text", "box"),
    [("(0, 0, 300, 300)", (0, 0, 300, 300)), ("(0,0,120,120)", (0, 0, 120, 120)),
     (" ( 3 ,4, 10,20 ) ", (3, 4, 10, 20))],
)  # fmt: skip
def test_parse_rect(text, box):
    assert label_csv.parse_rect(text) == box


@pytest.mark.parametrize("text", ["(0, 0, 300)", "(a,0,1,1)", "(10,0,5,5)", "(-1,0,5,5)", ""])
def test_parse_rect_rejects(text):
    with pytest.raises(ValueError):
        label_csv.parse_rect(text)


def test_format_rect_round_trip():
    assert label_csv.format_rect((0, 0, 300, 300)) == "(0, 0, 300, 300)"
    assert label_csv.format_rect((0, 0, 120, 120), compact=True) == "(0,0,120,120)"


def test_parse_disfa_name():
    f = label_csv.parse_disfa_name("RightVideoSN005_00003268.jpg")
    assert (f.subject, f.camera, f.frame) == ("SN005", "right", 3268)
    f = label_csv.parse_disfa_name("leftvideosn010_00000000.png")
    assert (f.subject, f.camera, f.frame) == ("SN010", "left", 0)
    assert label_csv.disfa_frame_name("SN005", "right", 3268) == "RightVideoSN005_00003268.jpg"
    with pytest.raises(ValueError, match="not a DISFA frame name"):
        label_csv.parse_disfa_name("SN005_3268.jpg")


def test_read_pretrain_stream_and_row_writer(tmp_path):
    frame = label_csv.read_pretrain_labels(io.StringIO(PRE_ROW), name="x.csv")
    assert list(frame.columns[6:24]) == list(OPENFACE_AUS)
    row = frame.iloc[0]
    assert (row.image, row.left, row.right, row.gender, row.line) == (
        "m.059w4s_84-FaceId-0.jpg",
        0,
        300,
        0,
        1,
    )
    aus = frame[list(OPENFACE_AUS)].to_numpy()[0]
    out = tmp_path / "out.csv"
    label_csv.write_label_rows(out, [label_csv.pretrain_row(row.image, (0, 0, 300, 300), 0, aus)])
    assert out.read_text() == PRE_ROW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a.jpg,"(0, 0, 3, 3)",0,1\n', "line 2: expected 21 columns"),
        ('a.jpg,"(0, 0, 3)",0' + ",0" * 18 + "\n", "line 2: rectsize: bad box"),
        ('a.jpg,"(0, 0, 3, 3)",0' + ",0" * 17 + ",x\n", "line 2: AU45: non-numeric"),
        ('a.jpg,"(0, 0, 3, 3)",2' + ",0" * 18 + "\n", "line 2: gender: expected 0 or 1"),
        ('a.jpg,"(0, 0, 3, 3)",0,3' + ",0" * 17 + "\n", "line 2: AU01: expected 0 or 1"),
    ],
)
def test_read_pretrain_errors_name_file_and_line(text, message):
    with pytest.raises(label_csv.LabelCsvError, match=message) as err:
        label_csv.read_pretrain_labels(io.StringIO(PRE_ROW + text), name="bad.csv")
    assert "bad.csv" in str(err.value) and err.value.line == 2


def test_read_disfa_presence_and_intensity():
    presence = label_csv.read_disfa_labels(io.StringIO(DISFA_ROW), name="f.csv")
    assert not presence.attrs["has_intensity"]
    assert (presence[[label_csv.intensity_column(a) for a in DISFA_AUS]] == -1).all().all()
    row = presence.iloc[0]
    assert (row.subject, row.camera, row.frame) == ("SN005", "right", 3268)
    levels = "0,1,2,3,4,5,0,0,0,0,0,2"
    text = f'LeftVideoSN001_00000007.jpg,"(0,0,120,120)",{levels}\n'
    inten = label_csv.read_disfa_labels(io.StringIO(text), name="i.csv")
    assert inten.attrs["has_intensity"]
    assert inten[list(DISFA_AUS)].to_numpy()[0].tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    assert inten[[f"{a}_intensity" for a in DISFA_AUS]].to_numpy()[0].tolist() == [
        int(v) for v in levels.split(",")
    ]
    with pytest.raises(label_csv.LabelCsvError, match="i.csv, line 1: AU04: expected a value"):
        label_csv.read_disfa_labels(io.StringIO(text), name="i.csv", values="presence")
    with pytest.raises(label_csv.LabelCsvError, match="line 1: not a DISFA frame name"):
        label_csv.read_disfa_labels(io.StringIO('x.jpg,"(0,0,1,1)"' + ",0" * 12), name="n.csv")
    with pytest.raises(label_csv.LabelCsvError, match="AU26: expected a value in 0..5"):
        label_csv.read_disfa_labels(io.StringIO(DISFA_ROW.replace("0\n", "6\n")), name="n.csv")


def test_merge_labels_dedupes_and_reports_conflicts():
    a = label_csv.read_disfa_labels(io.StringIO(DISFA_ROW), name="a.csv")
    b = label_csv.read_disfa_labels(io.StringIO("\n" + DISFA_ROW), name="b.csv")
    cols = [*DISFA_AUS, *(label_csv.intensity_column(x) for x in DISFA_AUS)]
    merged = label_csv.merge_labels([a, b], cols)
    assert len(merged) == 1 and merged.iloc[0].source == "a.csv"
    # the intensity row is preferred over a 0/1 row with the same presence
    inten = DISFA_ROW.replace(",0\n", ",3\n")
    c = label_csv.read_disfa_labels(io.StringIO(inten.replace(",3\n", ",1\n")), name="c.csv")
    d = label_csv.read_disfa_labels(io.StringIO(inten), name="d.csv")
    merged = label_csv.merge_labels([c, d], cols)
    assert len(merged) == 1 and merged.iloc[0].source == "d.csv"
    with pytest.raises(
        label_csv.LabelCsvError, match=r"b.csv, line 2: .*AU26 is 1 here but 0 in a.csv, line 1"
    ):
        b2 = label_csv.read_disfa_labels(
            io.StringIO("\n" + DISFA_ROW.replace("0\n", "1\n")), name="b.csv"
        )
        label_csv.merge_labels([a, b2], cols)


@needs_seed
def test_real_pretrain_test_labels():
    frame = label_csv.read_pretrain_labels(PRETRAIN_TEST)
    assert len(frame) == 8530
    assert frame["gender"].value_counts().to_dict() == {0: 4232, 1: 4298}
    assert (frame[["left", "top"]] == 0).all().all()
    widths = frame["right"] - frame["left"]
    assert widths.min() == 100 and widths.max() == 300 and widths.median() == 176
    rates = frame[list(OPENFACE_AUS)].mean()
    assert rates["AU01"] == pytest.approx(0.60, abs=0.005)
    assert rates["AU45"] == pytest.approx(0.23, abs=0.005)


@needs_seed
def test_real_disfa_fold1_test():
    frame = label_csv.read_disfa_labels(FOLD1_TEST)
    assert len(frame) == 43605
    assert not frame.attrs["has_intensity"]
    assert set(frame["camera"]) == {"right"}
    assert sorted(frame["subject"].unique()) == sorted(folds.paper_folds()[1])
    assert frame.groupby("subject").size().eq(4845).all()
    assert frame["frame"].min() == 0 and frame["frame"].max() == 4844
    boxes = frame[["left", "top", "right", "bottom"]].drop_duplicates().to_numpy().tolist()
    assert boxes == [[0, 0, 120, 120]]
    assert frame[list(DISFA_AUS)].to_numpy().dtype == np.uint8


def test_folds():
    paper, standard = folds.paper_folds(), folds.standard_folds()
    for scheme in (paper, standard):
        tests = [s for f in scheme.values() for s in f]
        assert sorted(tests) == sorted(folds.DISFA_SUBJECTS) and len(tests) == 27
    train, test = folds.fold_subjects(1)
    assert test == tuple(sorted(paper[1])) and len(train) == 18
    assert not set(train) & set(test)
    train, test = folds.fold_subjects("fold1", scheme="standard")
    assert set(test) == set(folds.standard_parts()["part3"])
    assert "SN002" in folds.fold_subjects(3, "standard")[1]
    rest, held = folds.hold_out(train, 3)
    assert len(held) == 3 and len(rest) == 15 and not set(rest) & set(held)
    assert folds.split_spec(["SN002", "SN005"]) == "SN002+SN005"
    with pytest.raises(ValueError, match="unknown fold"):
        folds.fold_subjects(4)
    with pytest.raises(ValueError, match="unknown fold scheme"):
        folds.fold_subjects(1, scheme="x")
