"""Input pipeline: any AU dataset builder → batched ``tf.data`` datasets.

Builders (``tfds_builders/``) share two features, ``image`` (a square uint8
grayscale face of any size) and ``aus`` (0/1 presence in the order of
``info.metadata["au_names"]``); this module turns a split of any of them into
``(images, labels)`` batches for the network:

* training: cache → shuffle → repeat → batch → the paper's augmentation on
  the whole batch in-graph (stateless, seeded per batch) → prefetch;
* evaluation: the same resampling with identity parameters, in file order,
  every example exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_au import augment
from keras_au.aus import au_indices

log = logging.getLogger(__name__)

#: Where prepared TFRecords go when neither ``--tfds-dir`` nor ``-d`` says.
DEFAULT_TFDS_DIR = Path("data") / "tfds"


def tfds_dir_for(data_dir: str | Path | None, tfds_dir: str | Path | None) -> Path:
    """Where TFRecords go: ``--tfds-dir``, else ``DATA_DIR/tfds``, else ``data/tfds``."""
    if tfds_dir:
        return Path(tfds_dir)
    return Path(data_dir) / "tfds" if data_dir else DEFAULT_TFDS_DIR


def seed_layout_dir(data_dir: str | Path | None, folder: str, pattern: str) -> Path:
    """Check that ``DATA_DIR/folder`` holds files matching ``pattern``; return it.

    Args:
        data_dir: the user's ``-d/--data-dir``.
        folder: ``pre_train_images`` or ``fine_tune_images``.
        pattern: a glob its label files match, e.g. ``*_label.csv``.

    Raises:
        ValueError: saying what was received and what is expected.
    """
    expected = f"a folder holding {folder}/{pattern} and the images beside them"
    if data_dir is None:
        raise ValueError(f"this dataset needs -d/--data-dir: {expected}")
    base = Path(data_dir)
    if not base.is_dir():
        raise ValueError(f"--data-dir {str(base)!r} does not exist or is not a folder; "
                         f"expected {expected}")
    manual = base / folder
    if not any(manual.glob(pattern)):
        raise ValueError(f"--data-dir {str(base)!r} holds no {folder}/{pattern}; expected {expected}")
    return manual


def synthetic_builder(kind: str, tfds_dir: str | Path, **sizes: int) -> tfds.core.DatasetBuilder:
    """Return the built-in synthetic builder (``pretrain`` or ``disfa``), prepared.

    Generates the data on first use (about a minute at the default sizes)
    and reuses it afterwards.
    """
    from tfds_builders.synthetic_au.synthetic_au_dataset_builder import Builder, make_config

    builder = Builder(data_dir=str(tfds_dir), config=make_config(kind, **sizes))
    return prepare(builder)


def manual_builder(name: str, manual_dir: str | Path, tfds_dir: str | Path) -> tfds.core.DatasetBuilder:
    """Return a real-data builder (``ms_celeb_au`` or ``disfa``), prepared.

    Args:
        name: the builder folder under ``tfds_builders/``.
        manual_dir: the seed-layout folder it reads (``pre_train_images/`` …).
        tfds_dir: where the TFRecords go.
    """
    if name == "ms_celeb_au":
        from tfds_builders.ms_celeb_au.ms_celeb_au_dataset_builder import Builder
    elif name == "disfa":
        from tfds_builders.disfa.disfa_dataset_builder import Builder
    else:
        raise ValueError(f"unknown real-data builder {name!r}; expected ms_celeb_au or disfa")
    return prepare(Builder(data_dir=str(tfds_dir)), manual_dir=manual_dir)


def prepare(builder: tfds.core.DatasetBuilder, manual_dir: str | Path | None = None) -> tfds.core.DatasetBuilder:
    """Generate ``builder``'s TFRecords unless they already exist."""
    config = tfds.download.DownloadConfig(manual_dir=str(manual_dir) if manual_dir else None)
    builder.download_and_prepare(download_config=config)
    return builder


def builder_au_names(builder: tfds.core.DatasetBuilder) -> list[str]:
    """The AU names of a builder's ``aus`` feature, in order."""
    try:
        return list(builder.info.metadata["au_names"])
    except (TypeError, KeyError) as err:
        raise ValueError(
            f"dataset {builder.info.full_name} has no metadata['au_names']; "
            "every keras_au builder must record its AU order"
        ) from err


def split_size(builder: tfds.core.DatasetBuilder, split: str) -> int:
    """Number of examples in a (possibly composed or sliced) split."""
    return int(builder.info.splits[split].num_examples)


def _selector(au_positions: Sequence[int], label_key: str):
    positions = tf.constant(list(au_positions), tf.int32)

    def select(example: dict) -> tuple[tf.Tensor, tf.Tensor]:
        labels = tf.gather(example[label_key], positions)
        return example["image"], tf.cast(labels > 0, tf.float32)

    return select


def make_dataset(
    builder: tfds.core.DatasetBuilder,
    split: str,
    batch_size: int,
    *,
    training: bool,
    au_names: Sequence[str] | None = None,
    label_key: str = "aus",
    seed: int = 0,
    image_size: int = 64,
    cache: bool = True,
    shuffle_buffer: int = 4096,
    augment_params: augment.AugmentParams | None = augment.PAPER_AUGMENTATION,
) -> tf.data.Dataset:
    """Build the ``(images, labels)`` dataset of one split.

    Args:
        builder: a prepared AU builder.
        split: a TFDS split spec, e.g. ``"train"``, ``"train[:90%]"``,
            ``"SN001+SN002"``.
        batch_size: global batch size.
        training: augment, shuffle and repeat forever (drop the last partial
            batch) when True; else one deterministic pass in file order.
        au_names: the AUs to return, in this order (default: all the builder's).
        label_key: the feature holding presence labels (``aus``; the synthetic
            pretrain set also has ``aus_true``).
        seed: seeds file order, shuffling and augmentation.
        image_size: side of the network input.
        cache: keep decoded examples in memory after the first pass.
        shuffle_buffer: examples in the shuffle buffer (training only).
        augment_params: augmentation ranges (training only); ``None`` trains
            on the plain crops.

    Returns:
        Batches of ``float32 [b, image_size, image_size, 1]`` images scaled to
        [-1, 1] and ``float32 [b, n_aus]`` 0/1 labels.

    Raises:
        ValueError: for AU names the builder lacks or an empty split.
    """
    available = builder_au_names(builder)
    positions = au_indices(list(au_names) if au_names else available, available)
    if split_size(builder, split) == 0:
        raise ValueError(f"split {split!r} of {builder.info.full_name} is empty")
    read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
    ds = builder.as_dataset(split=split, shuffle_files=training, read_config=read_config)
    ds = ds.map(_selector(positions, label_key), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat()
        ds = ds.batch(batch_size, drop_remainder=True, num_parallel_calls=tf.data.AUTOTUNE)

        def aug(index: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]):
            images, labels = batch
            if augment_params is None:
                return augment.eval_batch(images, image_size), labels
            batch_seed = tf.stack([tf.constant(seed, tf.int64), index])
            return augment.augment_batch(images, batch_seed, image_size, augment_params), labels

        ds = ds.enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.batch(batch_size, num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.map(
            lambda images, labels: (augment.eval_batch(images, image_size), labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def collect_labels(
    builder: tfds.core.DatasetBuilder,
    split: str,
    keys: Sequence[str],
) -> dict[str, np.ndarray]:
    """Read features of a split in evaluation order, without decoding images.

    Returns:
        ``{key: array}`` with one row per example, in the same order as
        ``make_dataset(..., training=False)`` yields them.
    """
    decoders = {"image": tfds.decode.SkipDecoding()}
    ds = builder.as_dataset(split=split, shuffle_files=False, decoders=decoders,
                            read_config=tfds.ReadConfig(try_autocache=False))
    ds = ds.map(lambda ex: {k: ex[k] for k in keys}).batch(4096)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for batch in tfds.as_numpy(ds):
        for k in keys:
            parts[k].append(batch[k])
    return {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in parts.items()}
