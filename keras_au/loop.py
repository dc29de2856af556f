"""The training loop: Keras ``fit``, or a custom loop where ``fit`` cannot run.

:func:`fit` is what ``pretrain`` and ``finetune`` call. Under every strategy
but MultiWorkerMirroredStrategy it is ``model.fit``. Keras 3's ``fit`` does
not run under MultiWorkerMirroredStrategy (keras-team/keras#20585: it fails
in the trainer's symbolic build and then in its cross-worker metric
reduction, TensorFlow 2.21 / Keras 3.15), so there :func:`fit` runs
:func:`custom_fit` instead, which keeps everything else the same — the
compiled model, loss and optimizer (loss scaling included), the same input
pipeline, the same callbacks (backup and restore, best checkpoint, CSV
history, NaN stop) and the same history columns:

* each step is ``strategy.run`` of a ``GradientTape`` step; the loss is
  averaged over the *global* batch (``tf.nn.compute_average_loss``) and the
  Keras optimizer all-reduces gradients across workers;
* training ``loss`` and ``macro_f1`` come from counts summed over all
  replicas, so they equal what ``fit`` would log (``auc`` is not logged on
  training batches in this loop);
* validation runs on every worker over the whole validation set with the
  compiled metrics, so every worker takes the same checkpoint and
  early-stopping decisions;
* the workers wait for each other after validation, before any saves its
  backup, so a worker lost mid-epoch leaves every backup at the same epoch;
  a restart checks that all workers restored the same epoch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_au.distribute import Execution

log = logging.getLogger(__name__)

#: Builds the training dataset for one input pipeline (see ``distribute_datasets_from_function``).
DatasetFn = Callable[[tf.distribute.InputContext | None], tf.data.Dataset]


def fit(
    model: keras.Model,
    train_fn: DatasetFn,
    val_ds: tf.data.Dataset,
    execution: Execution,
    **options: Any,
) -> keras.callbacks.History:
    """Train ``model``: Keras ``fit``, or :func:`custom_fit` under ``multi_worker``.

    Takes the arguments of :func:`custom_fit`.
    """
    if execution.multi_worker:
        return custom_fit(model, train_fn, val_ds, execution, **options)
    callbacks = list(options.pop("callbacks"))
    return model.fit(train_fn(None), validation_data=val_ds, callbacks=callbacks, shuffle=False,
                     **options)  # fmt: skip


def custom_fit(
    model: keras.Model,
    train_fn: DatasetFn,
    val_ds: tf.data.Dataset,
    execution: Execution,
    *,
    epochs: int,
    steps_per_epoch: int,
    callbacks: Sequence[keras.callbacks.Callback],
    initial_epoch: int = 0,
    verbose: int = 1,
) -> keras.callbacks.History:
    """Train ``model`` (compiled in ``execution.strategy``'s scope) with a ``strategy.run`` loop.

    Args:
        model: the compiled model.
        train_fn: ``train_fn(None)`` gives the global-batch training set for
            ``fit``; ``train_fn(context)`` one worker's per-replica-batch shard.
        val_ds: the validation set (global batches, read whole by each worker).
        execution: from :func:`keras_au.distribute.setup`.
        epochs: train until this epoch (exclusive), as ``fit``.
        steps_per_epoch: steps of ``execution.global_batch`` examples.
        callbacks: Keras callbacks.
        initial_epoch: first epoch to run (a later phase of a run).
        verbose: 0 silent, 1 a log line per epoch.

    Returns:
        The run's ``History``.
    """
    strategy = execution.strategy
    if execution.jit:
        log.warning("--jit is not applied by the multi-worker training loop")
    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*callbacks, history], model=model, epochs=epochs, steps=steps_per_epoch, verbose=0)
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
    dataset = strategy.distribute_datasets_from_function(train_fn)
    train_step = _train_step(model, execution)
    evaluate = _evaluator(model)

    model.stop_training = False
    model._initial_epoch = None  # noqa: SLF001 - set by BackupAndRestore.on_train_begin
    callback_list.on_train_begin()
    epoch = model._initial_epoch or initial_epoch  # noqa: SLF001
    agree = _agreement(strategy)
    if not agree(epoch):
        raise ValueError(
            f"the workers restored different epochs from their backups (this one: {epoch}); "
            "a worker died while the others were saving theirs. Delete every worker's "
            "backup/ (the chief's RUN_DIR/backup, RUN_DIR/workers/*/backup) and start again")
    iterator = iter(dataset)
    while epoch < epochs and not model.stop_training:
        callback_list.on_epoch_begin(epoch)
        started = time.perf_counter()
        totals: dict[str, np.ndarray] = {}
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            sums = {k: v.numpy() for k, v in train_step(iterator).items()}
            totals = {k: totals.get(k, 0) + v for k, v in sums.items()}
            callback_list.on_train_batch_end(step, {"loss": float(sums["loss"])})
            if model.stop_training:
                break
        logs = {"loss": float(totals["loss"]) / max(1, step + 1),
                "macro_f1": _macro_f1(totals["tp"], totals["fp"], totals["fn"])}  # fmt: skip
        logs.update({f"val_{k}": v for k, v in evaluate(val_ds).items()})
        agree(epoch)  # barrier: no worker saves this epoch's backup before all have finished it
        if verbose:
            log.info("epoch %d/%d (%.0f s): %s", epoch + 1, epochs, time.perf_counter() - started,
                     " ".join(f"{k} {v:.4f}" for k, v in logs.items()))  # fmt: skip
        callback_list.on_epoch_end(epoch, logs)
        epoch += 1
    callback_list.on_train_end()
    return history


def _agreement(strategy: tf.distribute.Strategy) -> Callable[[int], bool]:
    """A function: does every worker hold the same int? A collective, so also a barrier."""

    @tf.function
    def moments(value: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        per_replica = strategy.run(lambda: tf.stack([value, value * value, 1.0]))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return total[0] / total[2], total[1] / total[2]

    def agree(value: int) -> bool:
        mean, square = moments(tf.constant(float(value)))
        return abs(float(square) - float(mean) ** 2) < 1e-6

    return agree


def _macro_f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> float:
    """Macro F1 from per-AU counts, as ``keras.metrics.F1Score(average="macro")``."""
    return float(np.mean(2 * tp / np.maximum(2 * tp + fp + fn, keras.backend.epsilon())))


def _train_step(model: keras.Model, execution: Execution) -> Callable[[Any], dict[str, tf.Tensor]]:
    """A ``tf.function``: one distributed step; returns loss and F1 counts summed over replicas."""
    strategy, optimizer = execution.strategy, model.optimizer
    loss_fn = model.loss
    global_batch = execution.global_batch

    def replica_step(x: tf.Tensor, y: tf.Tensor) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            probs = model(x, training=True)
            per_example = loss_fn.call(y, probs)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        predicted = tf.cast(probs > 0.5, tf.float32)  # as keras.metrics.F1Score(threshold=0.5)
        y = tf.cast(y, tf.float32)
        return {
            "loss": loss,
            "tp": tf.reduce_sum(predicted * y, axis=0),
            "fp": tf.reduce_sum(predicted * (1 - y), axis=0),
            "fn": tf.reduce_sum((1 - predicted) * y, axis=0),
        }

    @tf.function
    def step(iterator: Any) -> dict[str, tf.Tensor]:
        x, y = next(iterator)
        out = strategy.run(replica_step, args=(x, y))
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in out.items()}  # fmt: skip

    return step


def _evaluator(model: keras.Model) -> Callable[[tf.data.Dataset], dict[str, float]]:
    """Validation on this worker's copy of the model, with the compiled loss and metrics."""
    from keras_au.train import au_metrics

    mean_loss = keras.metrics.Mean(name="loss")
    metrics = [mean_loss, *au_metrics(model.output_shape[-1])]

    @tf.function
    def update(x: tf.Tensor, y: tf.Tensor) -> None:
        probs = model(x, training=False)
        mean_loss.update_state(model.loss(y, probs), sample_weight=tf.shape(y)[0])
        for metric in metrics[1:]:
            metric.update_state(y, probs)

    def evaluate(dataset: tf.data.Dataset) -> dict[str, float]:
        for metric in metrics:
            metric.reset_state()
        for x, y in dataset:
            update(x, y)
        return {m.name: float(m.result()) for m in metrics}

    return evaluate
