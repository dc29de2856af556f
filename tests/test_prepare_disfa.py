"""Tests of `python -m keras_au.prepare disfa` on a tiny generated DISFA release."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from keras_au import faces, label_csv, prepare, prepare_disfa
from keras_au.aus import DISFA_AUS

#: frames per video; SN002's labels have one line more than its video
FRAMES = {("SN001", "left"): 4, ("SN001", "right"): 4, ("SN002", "right"): 3}
LABEL_FRAMES = {"SN001": 4, "SN002": 4}


@pytest.fixture(scope="module")
def raw_disfa(tmp_path_factory, astronaut_file) -> Path:
    """Videos_{Left,Right}Camera/*.avi (MJPG, astronaut frames) + ActionUnit_Labels."""
    astro = cv2.resize(faces.read_image(astronaut_file),
                       (256, 256))  # fmt: skip
    root = tmp_path_factory.mktemp("DISFA")
    for (subject, camera), count in FRAMES.items():
        folder = root / f"Videos_{camera.capitalize()}Camera"
        folder.mkdir(exist_ok=True)
        comp = "Comp" if camera == "right" else "comp"  # the release mixes both
        path = folder / f"{camera.capitalize()}Video{subject}_{comp}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20, (256, 256))
        for i in range(count):
            frame = np.roll(astro, 3 * i, axis=1)
            if subject == "SN002" and i == 0:
                frame = np.full_like(astro, 90)  # no face, no earlier box: left out
            if subject == "SN002" and i == 2:
                frame = np.full_like(astro, 90)  # no face: previous box reused
            writer.write(frame)
        writer.release()
    for subject, count in LABEL_FRAMES.items():
        folder = root / "ActionUnit_Labels" / subject
        folder.mkdir(parents=True)
        for j, au in enumerate(DISFA_AUS):
            lines = [f"{f},{(f + j) % 6 if j < 2 else 0}" for f in range(1, count + 1)]
            (folder / f"{subject}_au{int(au[2:])}.txt").write_text("\n".join(lines) + "\n")
    return root


def test_prepare_disfa_frames_folds_report_and_resume(raw_disfa, tmp_path):
    out = tmp_path / "fine_tune_images"
    args = ["disfa", str(raw_disfa), str(out), "--size", "48", "-q"]
    assert prepare.main(args) == 0
    names = sorted(p.name for p in out.glob("*.jpg"))
    assert "LeftVideoSN001_00000000.jpg" in names and "RightVideoSN001_00000003.jpg" in names
    assert "RightVideoSN002_00000000.jpg" not in names and len(names) == 4 + 4 + 2
    assert faces.read_image(out / names[0]).shape == (48, 48)
    # SN001 tests in paper fold2, SN002 in fold1
    fold1_test = label_csv.read_disfa_labels(out / "fold1_test.csv")
    assert fold1_test["image"].tolist() == ["RightVideoSN002_00000001.jpg",
                                            "RightVideoSN002_00000002.jpg"]  # fmt: skip
    fold2_test = label_csv.read_disfa_labels(out / "fold2_test.csv")
    assert len(fold2_test) == 8 and fold2_test.attrs["has_intensity"]
    row = fold2_test.set_index("image").loc["RightVideoSN001_00000000.jpg"]
    # label line "1,x" is frame 0; AU01 = 1 % 6, AU02 = 2 % 6
    assert (row["AU01_intensity"], row["AU02_intensity"], row["AU01"], row["AU02"]) == (1, 2, 0, 1)
    assert (row["left"], row["right"]) == (0, 48)
    assert len(label_csv.read_disfa_labels(out / "fold1_train.csv")) == 8
    assert (out / "fold3_test.csv").read_text() == ""
    report = json.loads((out / "report.json").read_text())
    sn002 = next(v for v in report["videos"] if v["subject"] == "SN002")
    assert (sn002["frames"], sn002["label_frames"], sn002["reused_box"]) == (3, 4, 1)
    assert sn002["labels_without_frames"] == "3"
    with open(out / "skipped.csv", newline="") as stream:
        skipped = list(csv.DictReader(stream))
    assert [(r["image"], r["line"]) for r in skipped] == [("RightVideoSN002_00000000.jpg", "1")]
    # resume: frames already written are kept, not redone
    assert prepare.main(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert sum(v["resumed"] for v in report["videos"]) == 10
    assert sum(v["written"] for v in report["videos"]) == 0


def test_prepare_disfa_right_camera_standard_split(raw_disfa, tmp_path):
    out = tmp_path / "out"
    report = prepare_disfa.prepare_disfa(raw_disfa, out, scheme="standard", cameras="right",
                                         size=32, binary=True)  # fmt: skip
    assert not list(out.glob("Left*.jpg"))
    assert report["fold_files"]["fold3_test.csv"] == 6  # SN001, SN002: part1 = fold3 test
    table = label_csv.read_disfa_labels(out / "fold3_test.csv")
    assert not table.attrs["has_intensity"]


def test_prepare_disfa_errors(raw_disfa, tmp_path, capsys):
    assert prepare.main(["disfa", str(tmp_path), str(tmp_path / "o"), "-q"]) == 2
    assert "no DISFA videos" in capsys.readouterr().err
    assert prepare.main(["disfa", str(raw_disfa), str(tmp_path / "o"), "--cameras", "top"]) == 2
    bad = tmp_path / "SN001_au1.txt"
    bad.write_text("1,0\n2,seven\n")
    with pytest.raises(ValueError, match=r"SN001_au1.txt, line 2: expected 'frame,intensity'"):
        prepare_disfa.read_au_file(bad)
    with pytest.raises(FileNotFoundError, match=r"incomplete: no SN001_au2.txt, .*SN001_au26.txt"):
        prepare_disfa.subject_labels("SN001", {"AU01": bad})
    assert prepare_disfa.frame_ranges([0, 1, 2, 7, 9, 10]) == "0-2, 7, 9-10"


def test_prepared_folder_builds_with_the_disfa_builder(raw_disfa, tmp_path):
    """End to end: prepare disfa's output is a valid manual dir for the disfa builder."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from tfds_builders.disfa.disfa_dataset_builder import Builder

    out = tmp_path / "fine_tune_images"
    prepare_disfa.prepare_disfa(raw_disfa, out, size=48)
    builder = Builder(data_dir=str(tmp_path / "tfds"), config="64")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(out)))
    assert builder.info.splits["SN001"].num_examples == 8
    assert builder.info.splits["SN002"].num_examples == 2
    assert builder.info.metadata["missing_files"] == []
    assert builder.info.metadata["label_values"] == "intensity"
    ex = next(iter(tfds.as_numpy(builder.as_dataset(split="SN002"))))
    assert ex["image"].shape == (64, 64, 1) and ex["intensity"].min() >= 0
