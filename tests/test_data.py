"""The input pipeline on the tiny synthetic builder."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_au import aus, data


@pytest.fixture(scope="module")
def builder(tmp_path_factory):
    from tfds_builders.synthetic_au.synthetic_au_dataset_builder import Builder

    return data.prepare(Builder(data_dir=str(tmp_path_factory.mktemp("tfds")), config="pretrain_tiny"))


def test_training_batches_are_augmented_and_endless(builder):
    ds = data.make_dataset(builder, "train", 4, training=True, seed=1)
    batches = list(ds.take(5))  # 8 examples → the stream repeats
    x, y = batches[0]
    assert x.shape == (4, 64, 64, 1) and y.shape == (4, 18)
    assert x.dtype == "float32" and -1 <= float(np.min(x)) and float(np.max(x)) <= 1
    assert set(np.unique(y)) <= {0.0, 1.0}
    again = list(data.make_dataset(builder, "train", 4, training=True, seed=1).take(5))
    np.testing.assert_array_equal(batches[3][0], again[3][0])  # seeded


def test_eval_path_is_deterministic_and_aligned_with_labels(builder):
    ds = data.make_dataset(builder, "test", 3, training=False)
    first = np.concatenate([x for x, _ in ds])
    second = np.concatenate([x for x, _ in ds])
    np.testing.assert_array_equal(first, second)
    assert len(first) == 4  # every example once, last batch partial
    labels = np.concatenate([y for _, y in ds])
    raw = data.collect_labels(builder, "test", ("aus", "file_name"))
    np.testing.assert_array_equal(labels, raw["aus"].astype(np.float32))
    # the eval image is the stored face, normalized (identity resampling at 64 px)
    stored = np.stack([ex["image"] for ex in tfds.as_numpy(builder.as_dataset(split="test"))])
    np.testing.assert_allclose(first, (stored - 127.5) / 127.5, atol=1e-5)


def test_au_selection_and_errors(builder):
    ds = data.make_dataset(builder, "test", 4, training=False, au_names=["AU12", "AU01"])
    _, y = next(iter(ds))
    raw = data.collect_labels(builder, "test", ("aus",))["aus"]
    idx = [aus.OPENFACE_AUS.index("AU12"), aus.OPENFACE_AUS.index("AU01")]
    np.testing.assert_array_equal(y, raw[:4, idx])
    with pytest.raises(ValueError, match="AU99|unknown AU"):
        data.make_dataset(builder, "test", 4, training=False, au_names=["AU99"])
    with pytest.raises(ValueError, match="is empty"):
        data.make_dataset(builder, "test[:0%]", 4, training=False)
    labels = data.make_dataset(builder, "train", 4, training=False, label_key="aus_true")
    assert next(iter(labels))[1].shape == (4, 18)
