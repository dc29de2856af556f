"""Tests of the ms_celeb_au builder on its dummy_data (the manual dir)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_au.aus import OPENFACE_AUS
from tfds_builders.ms_celeb_au import ms_celeb_au_dataset_builder as builder_module


class MsCelebAuTest(tfds.testing.DatasetBuilderTestCase):
    """The standard TFDS checks: 3 train rows (1 skipped: missing image), 3 test rows."""

    DATASET_CLASS = builder_module.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["64"]
    SPLITS = {"train": 3, "test": 3}


def test_examples_metadata_and_skip_report(tmp_path):
    dummy = builder_module.Builder.code_path.parent / "dummy_data"
    builder = builder_module.Builder(data_dir=str(tmp_path), config="64")
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(dummy))
    )
    meta = builder.info.metadata
    assert meta["au_names"] == list(OPENFACE_AUS)
    assert meta["missing_files"] == []
    assert meta["skipped_count"] == 1
    (skip,) = meta["skipped"]
    assert skip["image"] == "m.0missing_0-FaceId-0.jpg" and skip["line"] == 4
    assert skip["split"] == "train" and skip["file"].endswith("train_label.csv")
    # the report survives a reload from disk
    reloaded = builder_module.Builder(data_dir=str(tmp_path), config="64")
    assert reloaded.info.metadata["skipped_count"] == 1
    examples = {ex["file_name"].decode(): ex for ex in tfds.as_numpy(builder.as_dataset("train"))}
    first = examples["m.059w4s_84-FaceId-0.jpg"]
    assert first["image"].shape == (64, 64, 1) and first["image"].dtype == np.uint8
    assert first["gender"] == 0
    assert first["aus"].tolist() == [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0]


def test_missing_csvs_are_named(tmp_path):
    (tmp_path / "manual").mkdir()
    (tmp_path / "manual" / "readme.txt").write_text("no labels here")
    builder = builder_module.Builder(data_dir=str(tmp_path / "data"), config="64")
    with pytest.raises(FileNotFoundError, match="train_label.csv and/or test_label.csv"):
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path / "manual"))
        )
