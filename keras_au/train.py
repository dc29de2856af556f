"""Shared training machinery: run directory, schedule, loss, compile, callbacks.

``pretrain`` and ``finetune`` differ only in the model they build and the
data they read; everything about *how* a Keras model is trained lives here.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

log = logging.getLogger(__name__)

#: Files of a run directory.
CONFIG_FILE = "config.json"
BEST_MODEL = "best.keras"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
BACKUP_DIR = "backup"
LOG_DIR = "logs"


def setup_logging(verbose: int = 1) -> None:
    """Configure the one logging setup of keras_au (idempotent)."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level)
    logging.getLogger("keras_au").setLevel(level)
    logging.getLogger("absl").setLevel(logging.WARNING)


def prepare_run_dir(model_dir: str | Path, config: dict[str, Any]) -> tuple[Path, bool]:
    """Create (or reopen) a run directory and record the config in it.

    A run directory with a ``backup/`` left by an interrupted run is resumed,
    but only with the same config; otherwise a new run starts there and
    replaces the old outputs.

    Returns:
        ``(run_dir, resuming)``.

    Raises:
        ValueError: if ``model_dir`` is a file, or an interrupted run there
            had a different config.
    """
    run_dir = Path(model_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"--model-dir {str(run_dir)!r} is a file; expected a directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = run_dir / CONFIG_FILE
    resuming = (run_dir / BACKUP_DIR).is_dir()
    if resuming and config_path.exists():
        old = json.loads(config_path.read_text())
        changed = {k for k in set(old) | set(config) if old.get(k) != config.get(k)} - {"verbose"}
        if changed:
            raise ValueError(
                f"{run_dir} holds an interrupted run with a different config "
                f"({', '.join(sorted(changed))} differ); resume it with the same flags, "
                "or pick another --model-dir"
            )
    if not resuming:
        for stale in (HISTORY_FILE, METRICS_FILE, BEST_MODEL):
            (run_dir / stale).unlink(missing_ok=True)
        shutil.rmtree(run_dir / LOG_DIR, ignore_errors=True)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return run_dir, resuming


@keras.saving.register_keras_serializable(package="keras_au")
class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-constant learning rate by epoch, with optional linear warm-up.

    The paper's schedule is ``StepSchedule([0.005, 0.0025, 0.0005], [20, 40],
    steps_per_epoch)``.
    """

    def __init__(
        self,
        values: Sequence[float],
        boundaries: Sequence[int],
        steps_per_epoch: int,
        warmup_epochs: float = 0.0,
    ) -> None:
        self.values = [float(v) for v in values]
        self.boundaries = [int(b) for b in boundaries]
        self.steps_per_epoch = int(steps_per_epoch)
        self.warmup_epochs = float(warmup_epochs)

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        epoch = step / float(self.steps_per_epoch)
        lr = tf.constant(self.values[0], tf.float32)
        for boundary, value in zip(self.boundaries, self.values[1:], strict=True):
            lr = tf.where(epoch >= boundary, tf.constant(value, tf.float32), lr)
        if self.warmup_epochs > 0:
            lr = lr * tf.minimum(1.0, (epoch + 1.0 / self.steps_per_epoch) / self.warmup_epochs)
        return lr

    def get_config(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "boundaries": self.boundaries,
            "steps_per_epoch": self.steps_per_epoch,
            "warmup_epochs": self.warmup_epochs,
        }


@keras.saving.register_keras_serializable(package="keras_au")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy with a per-AU weight on the positive term."""

    def __init__(self, pos_weight: Sequence[float], name: str = "weighted_bce", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.pos_weight = [float(w) for w in pos_weight]

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        eps = keras.backend.epsilon()
        y_pred = tf.clip_by_value(tf.cast(y_pred, tf.float32), eps, 1.0 - eps)
        y_true = tf.cast(y_true, tf.float32)
        w = tf.constant(self.pos_weight, tf.float32)
        terms = w * y_true * tf.math.log(y_pred) + (1.0 - y_true) * tf.math.log(1.0 - y_pred)
        return -tf.reduce_mean(terms, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pos_weight": self.pos_weight}


def au_metrics(num_aus: int) -> list[keras.metrics.Metric]:
    """The metrics every keras_au training logs: macro F1 at 0.5 and multi-label AUC."""
    return [
        keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1"),
        keras.metrics.AUC(multi_label=True, num_labels=num_aus, name="auc"),
    ]


def compile_model(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
    beta_1: float = 0.9,
    loss: keras.losses.Loss | None = None,
    jit: bool = False,
) -> None:
    """Compile for multi-label AU training: Adam, binary cross-entropy, :func:`au_metrics`.

    Under the ``mixed_float16`` policy Keras wraps the optimizer in a
    ``LossScaleOptimizer`` (dynamic loss scaling). ``jit`` compiles the
    training step with XLA.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1),
        loss=loss or keras.losses.BinaryCrossentropy(),
        metrics=au_metrics(model.output_shape[-1]),
        jit_compile=jit,
    )


class Throughput(keras.callbacks.Callback):
    """Adds ``train_images_per_s`` (wall clock, whole epoch) to the epoch logs."""

    def __init__(self, batch_size: int, steps_per_epoch: int) -> None:
        super().__init__()
        self.images = batch_size * steps_per_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["train_images_per_s"] = self.images / (time.perf_counter() - self._start)


def make_callbacks(
    run_dir: Path,
    monitor: str,
    batch_size: int,
    steps_per_epoch: int,
    backup_name: str = "",
) -> list[keras.callbacks.Callback]:
    """The callbacks of one ``fit`` of a keras_au run.

    Resume-safe backup first (in ``backup/<backup_name>``), throughput,
    best-model checkpoint chosen on the validation split, CSV history
    (appended across resumes and fits), TensorBoard logs, stop on NaN. The
    checkpoint starts from the best value already in ``history.csv``, so a
    resumed run, or a later ``fit`` in the same run directory, only replaces
    ``best.keras`` with a better model.
    """
    mode = "min" if monitor.endswith("loss") else "max"
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(run_dir / BEST_MODEL), monitor=monitor, mode=mode, save_best_only=True,
        initial_value_threshold=_best_so_far(run_dir / HISTORY_FILE, monitor, mode),
    )
    return [
        keras.callbacks.BackupAndRestore(str(run_dir / BACKUP_DIR / backup_name)),
        Throughput(batch_size, steps_per_epoch),
        checkpoint,
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=True),
        keras.callbacks.TensorBoard(str(run_dir / LOG_DIR), profile_batch=0),
        keras.callbacks.TerminateOnNaN(),
    ]


def _best_so_far(history: Path, monitor: str, mode: str) -> float | None:
    if not history.exists():
        return None
    with history.open() as f:
        values = [float(row[monitor]) for row in csv.DictReader(f) if row.get(monitor)]
    if not values:
        return None
    return min(values) if mode == "min" else max(values)


def remove_backup(run_dir: Path) -> None:
    """Delete what a finished run no longer needs to resume."""
    shutil.rmtree(run_dir / BACKUP_DIR, ignore_errors=True)


def predict_probs(model: keras.Model, dataset: tf.data.Dataset, verbose: int = 0) -> np.ndarray:
    """Probabilities for every example of an evaluation dataset, in order."""
    return np.asarray(model.predict(dataset.map(lambda x, y: x), verbose=verbose))


def predict_with_labels(model: keras.Model, dataset: tf.data.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, probabilities)`` of an evaluation dataset in one pass over it."""
    labels, probs = [], []
    for x, y in dataset:
        probs.append(np.asarray(model.predict_on_batch(x)))
        labels.append(y.numpy())
    return np.concatenate(labels, axis=0), np.concatenate(probs, axis=0)
