"""Tests of `python -m keras_au.prepare faces` on the astronaut photo (scikit-image)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from keras_au import faces, label_csv, prepare
from keras_au.aus import OPENFACE_AUS

HEADER = "frame, face_id, timestamp, confidence, success, " + ", ".join(
    [f"{au}_r" for au in OPENFACE_AUS] + [f"{au}_c" for au in OPENFACE_AUS]
)
AUS_A = [1, 0] * 9
AUS_B = [0, 1] * 9


def openface_row(frame: int, confidence: float, success: int, aus: list[int]) -> str:
    values = [frame, 0, 0.0, confidence, success] + [2.5 * a for a in aus] + aus
    return ", ".join(str(v) for v in values)


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut_file) -> Path:
    """IN_DIR: two faces (one in a subfolder), a blank image and a corrupt file."""
    astro = faces.read_image(astronaut_file)
    root = tmp_path_factory.mktemp("photos")
    (root / "sub").mkdir()
    cv2.imwrite(str(root / "astronaut.png"), astro)
    small = cv2.resize(astro[20:300, 100:380], (160, 160))  # a face ~55 px wide
    cv2.imwrite(str(root / "sub" / "close.jpg"), small)
    cv2.imwrite(str(root / "blank.png"), np.full((200, 200, 3), 127, np.uint8))
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return root


def read_skipped(out: Path) -> dict[str, str]:
    with open(out / "skipped.csv", newline="") as stream:
        return {row["image"]: row["reason"] for row in csv.DictReader(stream)}


def test_faces_crops_reports_and_resumes(photos, tmp_path):
    out = tmp_path / "out"
    assert prepare.main(["faces", str(photos), str(out), "-q"]) == 0
    crops = {r[0]: r[1] for r in csv.reader(open(out / "faces.csv"))}
    assert set(crops) == {"astronaut.jpg", "sub__close.jpg"}
    box = label_csv.parse_rect(crops["sub__close.jpg"])
    assert box == (0, 0, 100, 100)  # small faces are enlarged to the seed's minimum side
    crop = faces.read_image(out / "astronaut.jpg")
    assert crop.ndim == 2 and crop.shape[0] == crop.shape[1]
    assert (0, 0, *crop.shape) == label_csv.parse_rect(crops["astronaut.jpg"])
    skipped = read_skipped(out)
    assert skipped["blank.jpg"] == "no face detected"
    assert skipped["corrupt.jpg"].startswith("cannot decode image")
    report = json.loads((out / "report.json").read_text())
    assert (report["images"], report["faces"], report["skipped"]) == (4, 2, 2)
    assert not (out / "train_label.csv").exists()
    # resume: nothing is detected again
    before = (out / "astronaut.jpg").stat().st_mtime_ns
    assert prepare.main(["faces", str(photos), str(out), "-q", "--size", "64"]) == 0
    assert json.loads((out / "report.json").read_text())["resumed"] == 2
    assert (out / "astronaut.jpg").stat().st_mtime_ns == before


def test_faces_with_openface_per_image_csvs(photos, tmp_path):
    out, of_dir = tmp_path / "out", tmp_path / "openface"
    of_dir.mkdir()
    # FaceLandmarkImg names its CSVs after the images; two faces: the confident one wins
    (of_dir / "astronaut.csv").write_text(
        "\n".join([HEADER, openface_row(1, 0.98, 1, AUS_A), openface_row(1, 0.80, 1, AUS_B)]) + "\n"
    )
    (of_dir / "sub__close.csv").write_text(HEADER + "\n" + openface_row(1, 0.0, 0, AUS_B) + "\n")
    rc = prepare.main(
        [
            "faces",
            str(photos),
            str(out),
            "-q",
            "--size",
            "64",
            "--openface-csv",
            str(of_dir),
            "--split-name",
            "test",
        ]
    )
    assert rc == 0
    table = label_csv.read_pretrain_labels(out / "test_label.csv")
    assert table["image"].tolist() == ["astronaut.jpg"]
    assert table[list(OPENFACE_AUS)].to_numpy()[0].tolist() == AUS_A
    assert table["gender"].tolist() == [-1] and table["right"].tolist() == [64]
    assert read_skipped(out)["sub__close.jpg"] == "OpenFace failed (success 0)"


def test_faces_with_openface_folder_csv_and_user_labels(photos, tmp_path):
    out = tmp_path / "out"
    # FeatureExtraction -fdir OUT_DIR: frame n = n-th crop in name order
    of_csv = tmp_path / "crops.csv"
    of_csv.write_text("\n".join([HEADER, openface_row(1, 0.97, 1, AUS_A),
                                 openface_row(2, 0.5, 1, AUS_B)]) + "\n")  # fmt: skip
    labels = tmp_path / "gender.csv"
    labels.write_text("image,gender\nastronaut.png,1\nsub/close.jpg,0\n")
    rc = prepare.main(["faces", str(photos), str(out), "-q", "--openface-csv", str(of_csv),
                       "--labels", str(labels)])  # fmt: skip
    assert rc == 0
    table = label_csv.read_pretrain_labels(out / "train_label.csv")
    assert table["image"].tolist() == ["astronaut.jpg"] and table["gender"].tolist() == [1]
    assert "confidence 0.50 < 0.75" in read_skipped(out)["sub__close.jpg"]


def test_faces_bad_input_is_a_clear_error(photos, tmp_path, capsys):
    assert prepare.main(["faces", str(tmp_path / "nope"), str(tmp_path / "o")]) == 2
    assert "input folder not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,confidence,success\n1,0.9,1\n")
    assert prepare.main(["faces", str(photos), str(tmp_path / "o2"), "-q",
                         "--openface-csv", str(bad)]) == 2  # fmt: skip
    assert "not an OpenFace 2.x AU CSV" in capsys.readouterr().err


def test_prepared_folder_builds_with_the_ms_celeb_au_builder(photos, tmp_path):
    """End to end: prepare faces' output is a valid manual dir for the ms_celeb_au builder."""
    tfds = pytest.importorskip("tensorflow_datasets")
    from tfds_builders.ms_celeb_au.ms_celeb_au_dataset_builder import Builder

    out, of_dir = tmp_path / "pre_train_images", tmp_path / "openface"
    of_dir.mkdir()
    for stem, aus in (("astronaut", AUS_A), ("sub__close", AUS_B)):
        (of_dir / f"{stem}.csv").write_text(HEADER + "\n" + openface_row(1, 0.9, 1, aus) + "\n")
    assert prepare.main(["faces", str(photos), str(out), "-q", "--openface-csv", str(of_dir),
                         "--split-name", "test"]) == 0  # fmt: skip
    builder = Builder(data_dir=str(tmp_path / "tfds"), config="64")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(out)))
    assert builder.info.splits["test"].num_examples == 2
    assert builder.info.metadata["missing_files"] == ["train_label.csv"]
    examples = {e["file_name"].decode(): e for e in tfds.as_numpy(builder.as_dataset("test"))}
    assert examples["sub__close.jpg"]["aus"].tolist() == AUS_B
    assert examples["astronaut.jpg"]["gender"] == -1


def test_faces_with_seed_layout_labels(photos, tmp_path):
    """--labels in the seed's own layout gives gender and AUs; unlabelled faces are reported."""
    out = tmp_path / "out"
    labels = tmp_path / "labels.csv"
    row = label_csv.pretrain_row("astronaut.png", (0, 0, 10, 10), 1, AUS_B)
    label_csv.write_label_rows(labels, [row])
    assert prepare.main(["faces", str(photos), str(out), "-q", "--labels", str(labels)]) == 0
    table = label_csv.read_pretrain_labels(out / "train_label.csv")
    assert table["image"].tolist() == ["astronaut.jpg"] and table["gender"].tolist() == [1]
    assert table[list(OPENFACE_AUS)].to_numpy()[0].tolist() == AUS_B
    assert read_skipped(out)["sub__close.jpg"] == "no AU labels for this image in --labels"
