"""Input pipeline: any AU dataset builder → batched ``tf.data`` datasets.

Builders (``tfds_builders/``) share two features, ``image`` (a square uint8
grayscale face of any size) and ``aus`` (0/1 presence in the order of
``info.metadata["au_names"]``); this module turns a split of any of them into
``(images, labels)`` batches for the network:

* training: TFRecord shards (in file order and cached in memory, or
  interleaved and reshuffled every epoch when not cached) → shuffle →
  repeat → batch → parse + decode + the paper's augmentation on the
  whole batch in-graph (stateless, seeded per batch) → prefetch;
* evaluation: the same resampling with identity parameters, in file order,
  every example exactly once.

Parsing and decoding happen per batch, not per example, which is what lets
two CPU cores feed tens of thousands of faces a second
(``benchmarks/run.py``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_au import augment
from keras_au.aus import au_indices

log = logging.getLogger(__name__)

#: Faces augmented per call in training (batches are split after).
AUGMENT_GROUP = 256
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


def synthetic_builder(
    kind: str, tfds_dir: str | Path, wait: bool = False, **sizes: int
) -> tfds.core.DatasetBuilder:
    """Return the built-in synthetic builder (``pretrain`` or ``disfa``), prepared.

    Generates the data on first use (about a minute at the default sizes)
    and reuses it afterwards; ``wait`` as in :func:`prepare`.
    """
    from tfds_builders.synthetic_au.synthetic_au_dataset_builder import Builder, make_config

    builder = Builder(data_dir=str(tfds_dir), config=make_config(kind, **sizes))
    return prepare(builder, wait=wait)


def manual_builder(
    name: str, manual_dir: str | Path, tfds_dir: str | Path, wait: bool = False
) -> tfds.core.DatasetBuilder:
    """Return a real-data builder (``ms_celeb_au`` or ``disfa``), prepared.

    Args:
        name: the builder folder under ``tfds_builders/``.
        manual_dir: the seed-layout folder it reads (``pre_train_images/`` …).
        tfds_dir: where the TFRecords go.
        wait: as in :func:`prepare`.
    """
    if name == "ms_celeb_au":
        from tfds_builders.ms_celeb_au.ms_celeb_au_dataset_builder import Builder
    elif name == "disfa":
        from tfds_builders.disfa.disfa_dataset_builder import Builder
    else:
        raise ValueError(f"unknown real-data builder {name!r}; expected ms_celeb_au or disfa")
    return prepare(Builder(data_dir=str(tfds_dir)), manual_dir=manual_dir, wait=wait)


#: How long a worker waits for the chief to prepare a dataset.
WAIT_FOR_CHIEF_S = 3600.0


def prepare(
    builder: tfds.core.DatasetBuilder,
    manual_dir: str | Path | None = None,
    wait: bool = False,
    timeout_s: float = WAIT_FOR_CHIEF_S,
) -> tfds.core.DatasetBuilder:
    """Generate ``builder``'s TFRecords unless they already exist.

    Args:
        builder: the builder.
        manual_dir: its manual dir (real data).
        wait: do not generate; wait until another process (the chief of a
            multi-worker run) has, so workers never write the same files.
        timeout_s: how long to wait.

    Raises:
        ValueError: when waiting timed out.
    """
    if not wait:
        config = tfds.download.DownloadConfig(manual_dir=str(manual_dir) if manual_dir else None)
        builder.download_and_prepare(download_config=config)
        return builder
    deadline = time.monotonic() + timeout_s
    if not builder.is_prepared():
        log.info("waiting for the chief to prepare %s in %s", builder.info.full_name,
                 builder.data_dir_root)  # fmt: skip
    while not builder.is_prepared():
        if time.monotonic() > deadline:
            raise ValueError(f"{builder.info.full_name} was not prepared in {builder.data_dir_root} "
                             f"within {timeout_s:.0f} s; run `tfds build` for it first")  # fmt: skip
        time.sleep(1.0)
    return type(builder)(data_dir=str(builder.data_dir_root), config=builder.builder_config)


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


def _parse_spec(builder: tfds.core.DatasetBuilder, keys: Sequence[str]) -> dict:
    """``tf.io.parse_example`` spec of ``keys``, as TFDS serializes them.

    TFDS writes strings/bytes as bytes lists, integers and booleans as int64
    lists and floats as float lists, one flat list per feature.
    """
    info = builder.info.features.get_serialized_info()
    spec = {}
    for key in keys:
        if key not in info:
            raise ValueError(f"dataset {builder.info.full_name} has no feature {key!r}; "
                             f"it has {sorted(info)}")  # fmt: skip
        t = info[key]
        dtype = tf.as_dtype(t.tf_dtype)
        wire = tf.string if dtype == tf.string else tf.float32 if dtype.is_floating else tf.int64
        spec[key] = tf.io.FixedLenFeature(list(t.shape), wire)
    return spec


def read_records(
    builder: tfds.core.DatasetBuilder,
    split: str,
    *,
    shuffle_files: bool = False,
    seed: int = 0,
    part: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """Serialized examples of a split, straight from its TFRecord shards.

    Honours any TFDS split spec (``"train[:90%]"``, ``"SN001+SN002"``) through
    the split's file instructions. In file order when ``shuffle_files`` is
    False (the same order as ``builder.as_dataset(shuffle_files=False)``);
    otherwise the shard order is reshuffled every epoch and 8 shards are
    read in parallel.

    Args:
        builder: a prepared builder.
        split: a TFDS split spec.
        shuffle_files: reshuffle the shard order every epoch.
        seed: seeds that shuffle.
        part: ``(n, i)``: only the ``i``-th of ``n`` disjoint parts — whole
            files when every part then holds within 5 % of the same number
            of examples, so each worker of a multi-worker run reads only its
            own files without over-sampling any; else every ``n``-th example.
    """
    instructions = builder.info.splits[split].file_instructions
    files = tf.data.Dataset.from_tensor_slices((
        [str(f.filename) for f in instructions],
        tf.constant([f.skip for f in instructions], tf.int64),
        tf.constant([f.take for f in instructions], tf.int64),
    ))  # fmt: skip
    by_file = part is not None and _balanced_by_file(instructions, part[0])
    if by_file:
        files = files.shard(*part)
        instructions = instructions[part[1]::part[0]]

    def shard(filename: tf.Tensor, skip: tf.Tensor, take: tf.Tensor) -> tf.data.Dataset:
        return tf.data.TFRecordDataset(filename, buffer_size=1 << 20).skip(skip).take(take)

    if not shuffle_files or len(instructions) == 1:
        records = files.flat_map(shard)
    else:
        files = files.shuffle(len(instructions), seed=seed, reshuffle_each_iteration=True)
        records = files.interleave(shard, cycle_length=min(8, len(instructions)), block_length=16,
                                   num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)  # fmt: skip
    if part is None:
        count = builder.info.splits[split].num_examples
        return records.apply(tf.data.experimental.assert_cardinality(count))
    return records if by_file else records.shard(*part)


def _balanced_by_file(instructions: Sequence[Any], parts: int) -> bool:
    """True when taking every ``parts``-th file gives parts of near-equal size."""
    if len(instructions) < parts:
        return False
    sizes = [sum(f.take for f in instructions[i::parts]) for i in range(parts)]
    return min(sizes) >= 0.95 * max(sizes)


def _batch_decoder(builder: tfds.core.DatasetBuilder, au_positions: Sequence[int], label_key: str):
    """A function: serialized batch → ``(uint8 [b, S, S, 1] faces, float32 0/1 labels)``."""
    spec = _parse_spec(builder, ("image", label_key))
    shape = builder.info.features["image"].shape
    if len(shape) != 3 or builder.info.features["image"].np_dtype != np.uint8:
        raise ValueError(f"dataset {builder.info.full_name}: expected a raw uint8 [S, S, C] "
                         f"'image' feature, got {builder.info.features['image']!r}")  # fmt: skip
    positions = tf.constant(list(au_positions), tf.int32)

    def decode(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        example = tf.io.parse_example(serialized, spec)
        images = tf.reshape(tf.io.decode_raw(example["image"], tf.uint8), [-1, *shape])
        labels = tf.gather(example[label_key], positions, axis=1)
        return images, tf.cast(labels > 0, tf.float32)

    return decode


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
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Build the ``(images, labels)`` dataset of one split.

    Everything after reading works on whole batches: one ``parse_example``,
    one ``decode_raw`` (faces are stored as raw bytes) and one projective
    warp per batch, with several batches in flight.

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
        cache: keep the split's serialized examples in memory after the first
            pass (about ``S² + 200`` bytes a face; turn off for sets larger
            than RAM).
        shuffle_buffer: examples in the shuffle buffer (training only).
        augment_params: augmentation ranges (training only); ``None`` trains
            on the plain crops.
        input_context: given by ``distribute_datasets_from_function`` on each
            worker: read only this input pipeline's share of the examples
            and batch them per replica (``batch_size`` is then global).

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
    decode = _batch_decoder(builder, positions, label_key)
    part = None
    if input_context is not None:
        part = (input_context.num_input_pipelines, input_context.input_pipeline_id)
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    # cached: read in file order once, shuffle examples from memory every
    # epoch; else reshuffle the shard order every epoch while reading
    ds = read_records(builder, split, shuffle_files=training and not cache, seed=seed, part=part)
    if input_context is not None:
        seed = seed + 7919 * input_context.input_pipeline_id  # other augmentations per worker
    if cache:
        ds = ds.cache()
    if not training:
        ds = ds.batch(batch_size)

        def resize(serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            images, labels = decode(serialized)
            return augment.eval_batch(images, image_size), labels

        return ds.map(resize, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
    # Small batches are augmented in groups (≥ 256 faces a call) and split
    # again: per-call overhead, not pixels, limits small batches.
    group = batch_size * max(1, math.ceil(AUGMENT_GROUP / batch_size))
    ds = ds.batch(group, drop_remainder=True).enumerate()

    def aug(index: tf.Tensor, serialized: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images, labels = decode(serialized)
        if augment_params is None:
            return augment.eval_batch(images, image_size), labels
        batch_seed = tf.stack([tf.constant(seed, tf.int64), index])
        return augment.augment_batch(images, batch_seed, image_size, augment_params), labels

    ds = ds.map(aug, num_parallel_calls=tf.data.AUTOTUNE)
    if group != batch_size:
        ds = ds.flat_map(lambda images, labels: tf.data.Dataset.from_tensor_slices((
            tf.reshape(images, [-1, batch_size, *images.shape[1:]]),
            tf.reshape(labels, [-1, batch_size, labels.shape[-1]]),
        )))  # fmt: skip
    return ds.prefetch(tf.data.AUTOTUNE)


def collect_labels(
    builder: tfds.core.DatasetBuilder,
    split: str,
    keys: Sequence[str],
) -> dict[str, np.ndarray]:
    """Read features of a split in evaluation order, without decoding images.

    Returns:
        ``{key: array}`` with one row per example, in the same order as
        ``make_dataset(..., training=False)`` yields them. Text features come
        back as ``bytes``.
    """
    spec = _parse_spec(builder, keys)
    ds = read_records(builder, split).batch(4096).map(lambda s: tf.io.parse_example(s, spec))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for batch in ds.as_numpy_iterator():
        for k in keys:
            parts[k].append(batch[k])
    return {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in parts.items()}
