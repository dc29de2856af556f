"""Tests of the disfa builder on its dummy_data (the manual dir)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_au.aus import DISFA_AUS
from tfds_builders.disfa import disfa_dataset_builder as builder_module

DUMMY = builder_module.Builder.code_path.parent / "dummy_data"


class DisfaTest(tfds.testing.DatasetBuilderTestCase):
    """Standard TFDS checks: one split per subject, duplicates stored once, 1 row skipped."""

    DATASET_CLASS = builder_module.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["64"]
    SPLITS = {"SN001": 4, "SN002": 2, "SN005": 2}


def _prepare(data_dir, manual_dir):
    builder = builder_module.Builder(data_dir=str(data_dir), config="64")
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir))
    )
    return builder


def test_metadata_folds_missing_files_and_skips(tmp_path):
    builder = _prepare(tmp_path, DUMMY)
    meta = builder_module.Builder(data_dir=str(tmp_path), config="64").info.metadata
    assert meta["au_names"] == list(DISFA_AUS)
    assert meta["subjects"] == ["SN001", "SN002", "SN005"]
    assert meta["folds"] == {"fold1": {"test": ["SN002", "SN005"], "train": ["SN001"]},
                             "fold2": {"test": ["SN001"]}}  # fmt: skip
    assert meta["missing_files"] == ["fold2_train.csv", "fold3_train.csv", "fold3_test.csv"]
    assert meta["label_values"] == "mixed"
    assert meta["skipped_count"] == 1
    (skip,) = meta["skipped"]
    assert (skip["image"], skip["line"], skip["reason"]) == (
        "RightVideoSN005_00000002.jpg",
        5,
        "image file not found",
    )
    assert skip["file"].endswith("fold1_test.csv")

    ds = builder.as_dataset(split="SN001+SN005")
    examples = {ex["file_name"].decode(): ex for ex in tfds.as_numpy(ds)}
    assert len(examples) == 6
    frame0 = examples["RightVideoSN001_00000000.jpg"]  # in fold1_train and fold2_test
    assert frame0["intensity"].tolist() == [0, 1, 3, 0, 0, 0, 5, 0, 0, 1, 0, 0]
    assert frame0["aus"].tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    left = examples["LeftVideoSN001_00000000.jpg"]
    assert left["camera"] == 0 and left["subject"] == b"SN001" and left["frame"] == 0
    assert (left["intensity"] == -1).all()
    assert left["image"].shape == (64, 64, 1) and left["image"].dtype == np.uint8


def test_conflicting_labels_name_both_files(tmp_path):
    manual = tmp_path / "manual"
    shutil.copytree(DUMMY, manual)
    rows = (manual / "fold2_test.csv").read_text().splitlines()
    rows[0] = rows[0].replace(",5,", ",0,")  # SN001 frame 0: AU12 5 -> 0, fold1_train says 1
    (manual / "fold2_test.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"fold2_test.csv, line 1: .*AU12 is 0 here but 1 in "
                                         r".*fold1_train.csv, line 1"):  # fmt: skip
        _prepare(tmp_path / "data", manual)


def test_no_fold_csv_is_an_error_listing_the_files(tmp_path):
    (tmp_path / "manual").mkdir()
    (tmp_path / "manual" / "RightVideoSN001_00000000.jpg").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="fold1_train.csv, fold1_test.csv"):
        _prepare(tmp_path / "data", tmp_path / "manual")
