"""Builds the tiny synthetic configs for real and checks splits and features."""

import numpy as np
import tensorflow_datasets as tfds

from keras_au import aus
from keras_au.folds import DISFA_SUBJECTS
from tfds_builders.synthetic_au import synthetic_au_dataset_builder as sab


class PretrainTinyTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = sab.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["pretrain_tiny"]
    SPLITS = {"train": 8, "validation": 4, "test": 4}
    SKIP_CHECKSUMS = True


class DisfaTinyTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = sab.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["disfa_tiny"]
    SPLITS = {s: 3 for s in DISFA_SUBJECTS}
    SKIP_CHECKSUMS = True


def test_generation_is_deterministic_and_labelled(tmp_path):
    def build(where):
        b = sab.Builder(data_dir=str(where), config="pretrain_tiny")
        b.download_and_prepare()
        return b, {ex["file_name"]: ex for ex in tfds.as_numpy(b.as_dataset(split="train"))}

    builder, first = build(tmp_path / "a")
    _, second = build(tmp_path / "b")
    assert sorted(first) == sorted(second)
    for key, ex in first.items():
        np.testing.assert_array_equal(ex["image"], second[key]["image"])
        assert ex["image"].shape == (64, 64, 1) and ex["aus"].shape == (18,)
    assert list(builder.info.metadata["au_names"]) == list(aus.OPENFACE_AUS)


def test_disfa_config_records_folds_and_au_order(tmp_path):
    b = sab.Builder(data_dir=str(tmp_path), config="disfa_tiny")
    b.download_and_prepare()
    assert list(b.info.metadata["au_names"]) == list(aus.DISFA_AUS)
    frames = list(tfds.as_numpy(b.as_dataset(split="SN001+SN032")))
    assert {f["subject"].decode() for f in frames} == {"SN001", "SN032"}
    for f in frames:
        np.testing.assert_array_equal(f["aus"], f["intensity"] >= aus.DISFA_PRESENCE_THRESHOLD)


def test_make_config_names_custom_sizes():
    assert sab.make_config("pretrain").name == "pretrain"
    assert sab.make_config("pretrain", num_train=8, num_validation=4, num_test=4).name == "pretrain_tiny"
    custom = sab.make_config("pretrain", num_train=10, seed=3)
    assert custom.name == "pretrain-t10-v500-e1000-s64-seed3"
    import pytest

    with pytest.raises(ValueError, match="num_train must be an integer >= 1"):
        sab.make_config("pretrain", num_train=0)
    with pytest.raises(ValueError, match="synthetic kind"):
        sab.make_config("video")
