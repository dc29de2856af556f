"""Both real-data builders over the paper's real label files (generated images)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow_datasets as tfds

from keras_au import aus, folds, label_csv
from keras_au.fixtures import write_placeholder_images

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed_data"


def _seed_file(*parts: str) -> Path:
    path = SEED.joinpath(*parts)
    if not path.is_file():
        pytest.fail(f"{path} is missing: these tests need the project's shared/seed_data")
    return path


def _build(builder_cls, manual: Path, data_dir: Path):
    builder = builder_cls(data_dir=str(data_dir), config="64")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    return builder


def _labels_by_name(builder, split: str, keys: tuple[str, ...]) -> dict[str, dict]:
    ds = builder.as_dataset(split=split, decoders={"image": tfds.decode.SkipDecoding()})
    return {ex["file_name"].decode(): {k: ex[k] for k in keys} for ex in tfds.as_numpy(ds)}


def test_ms_celeb_au_from_the_real_test_labels(tmp_path):
    from tfds_builders.ms_celeb_au.ms_celeb_au_dataset_builder import Builder

    real = _seed_file("pre_train_images", "test_label.csv")
    assert write_placeholder_images(real, tmp_path / "pre_train_images") == 8530
    builder = _build(Builder, tmp_path / "pre_train_images", tmp_path / "tfds")
    assert builder.info.splits["test"].num_examples == 8530
    assert builder.info.metadata["skipped_count"] == 0
    got = _labels_by_name(builder, "test", ("aus", "gender"))
    table = label_csv.read_pretrain_labels(real)
    assert len(got) == len(table) == 8530
    expected = table.set_index("image")
    for name in table["image"].iloc[::97]:  # every 97th row, all columns
        row = expected.loc[name]
        np.testing.assert_array_equal(got[name]["aus"], row[list(aus.OPENFACE_AUS)].to_numpy(int))
        assert got[name]["gender"] == row["gender"]
    totals = np.sum([v["aus"] for v in got.values()], axis=0)
    np.testing.assert_array_equal(totals, table[list(aus.OPENFACE_AUS)].sum().to_numpy())


def test_disfa_from_the_real_fold1_test_csv(tmp_path):
    from tfds_builders.disfa.disfa_dataset_builder import Builder

    real = _seed_file("fine_tune_images", "fold1_test.csv")
    assert write_placeholder_images(real, tmp_path / "fine_tune_images") == 43605
    builder = _build(Builder, tmp_path / "fine_tune_images", tmp_path / "tfds")
    _, fold1_test = folds.fold_subjects(1)
    assert sorted(builder.info.splits) == sorted(fold1_test)
    for subject in fold1_test:
        assert builder.info.splits[subject].num_examples == 4845
    got = _labels_by_name(builder, folds.split_spec(fold1_test), ("aus", "subject", "frame", "camera"))
    table = label_csv.read_disfa_labels(real)
    assert len(got) == len(table) == 43605
    for name, aus_row in zip(table["image"], table[list(aus.DISFA_AUS)].to_numpy(int), strict=True):
        ex = got[name]
        np.testing.assert_array_equal(ex["aus"], aus_row)
        parsed = label_csv.parse_disfa_name(name)
        assert (ex["subject"].decode(), int(ex["frame"])) == (parsed.subject, parsed.frame)
    frames = pd.DataFrame([(v["subject"], int(v["frame"])) for v in got.values()],
                          columns=["subject", "frame"])
    assert (frames.groupby("subject")["frame"].agg(["min", "max", "nunique"]).values
            == [0, 4844, 4845]).all()
    assert {int(v["camera"]) for v in got.values()} == {1}  # right camera only
