"""How a run executes: distribution strategy, worker role, precision, XLA, batch and LR scaling.

:func:`setup` is the first thing a training run calls (MultiWorkerMirrored
strategy must exist before TensorFlow runs any op) and returns an
:class:`Execution` that everything else reads:

* ``--strategy``: ``auto`` (MirroredStrategy when several GPUs are visible,
  else the default single device), ``one_device``, ``mirrored`` (all local
  GPUs, or all local devices of one kind), ``multi_worker``
  (MultiWorkerMirroredStrategy over the machines listed in the standard
  ``TF_CONFIG`` environment variable).
* ``--precision``: ``fp32``, ``bf16`` (``mixed_bfloat16``), ``fp16``
  (``mixed_float16``, dynamic loss scaling); the sigmoid head always computes
  in float32. ``auto``: bf16 on GPUs of compute capability ≥ 8.0 (A100, H100,
  H200 …), fp16 on an older single GPU (fp32 with several: Keras' loss
  scaling checks only the first replica's gradients), fp32 on CPU (bf16
  trains 1.4× faster on CPUs with AVX512-BF16, but CPU support varies).
* ``--jit/--no-jit`` (XLA): default on for a single GPU, off on CPU and under
  any distribution strategy (TensorFlow's own default; XLA + MirroredStrategy
  + mixed_float16 has crashed in Keras 3, keras-team/keras#21366).
* Batch size: ``--batch-size`` is per replica; the global batch is that ×
  the number of replicas in sync (GPUs over all workers).
* Learning rate: ``--lr-scaling sqrt`` (default) multiplies every learning
  rate by the square root of the number of replicas, i.e. of global batch /
  per-replica batch — the rule for Adam (Malladi et al. 2022, "On the SDEs
  and Scaling Rules for Adaptive Gradient Algorithms"); ``linear`` by the
  number itself (Goyal et al. 2017, for SGD; pair it with
  ``--warmup-epochs``); ``none`` keeps the rates as given. On one device all
  three are the same.

Only the chief writes to the run directory. Keras callbacks do not know
chief from worker, so every other worker runs the same code against its own
scratch directory, ``RUN_DIR/workers/worker-<i>`` (its own backup, so a
worker that dies resumes like the chief), deleted when the run finishes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from keras_au.config import LR_SCALINGS, PRECISIONS, STRATEGIES, ExecutionConfig

log = logging.getLogger(__name__)

#: Keras dtype policy of each precision.
POLICIES = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
#: Where non-chief workers write, under the run directory.
WORKERS_DIR = "workers"


@dataclasses.dataclass(frozen=True)
class Execution:
    """What :func:`setup` decided for a run.

    Attributes:
        strategy: the ``tf.distribute`` strategy; build and compile models in
            its scope.
        precision: ``fp32``, ``bf16`` or ``fp16`` (resolved from ``auto``).
        jit: compile training steps with XLA.
        per_replica_batch: ``--batch-size``.
        lr_factor: multiply every learning rate by this.
        task_type: ``chief``/``worker`` under ``multi_worker``, else ``None``.
        task_id: index of this worker among its type.
    """

    strategy: tf.distribute.Strategy
    precision: str
    jit: bool
    per_replica_batch: int
    lr_factor: float
    task_type: str | None = None
    task_id: int = 0

    @property
    def replicas(self) -> int:
        """Replicas in sync over all workers."""
        return int(self.strategy.num_replicas_in_sync)

    @property
    def global_batch(self) -> int:
        """Examples per training step over all replicas."""
        return self.per_replica_batch * self.replicas

    @property
    def multi_worker(self) -> bool:
        """True under MultiWorkerMirroredStrategy (training runs a custom loop)."""
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    @property
    def is_chief(self) -> bool:
        """True for the one process that writes the run directory."""
        return self.task_type in (None, "chief") or (
            self.task_type == "worker" and self.task_id == 0 and not _has_chief())

    def work_dir(self, run_dir: str | Path) -> Path:
        """``run_dir`` for the chief, a private scratch directory for other workers."""
        if self.is_chief:
            return Path(run_dir)
        return Path(run_dir) / WORKERS_DIR / f"{self.task_type}-{self.task_id}"

    def finish(self, run_dir: str | Path) -> None:
        """Delete this worker's scratch directory (nothing for the chief)."""
        if not self.is_chief:
            shutil.rmtree(self.work_dir(run_dir), ignore_errors=True)
            try:  # the last worker to finish removes workers/
                (Path(run_dir) / WORKERS_DIR).rmdir()
            except OSError:
                pass

    def load_model(self, path: str | Path) -> keras.Model:
        """Load a ``.keras`` file for evaluation: uncompiled, outside the strategy.

        Evaluation runs on one device: under MirroredStrategy,
        ``predict_on_batch`` would return every row once per replica.
        """
        return keras.models.load_model(path, compile=False)

    def describe(self) -> str:
        """One line for the log."""
        role = f", {self.task_type} {self.task_id}" if self.task_type else ""
        return (f"{type(self.strategy).__name__} with {self.replicas} replica(s){role}; "
                f"batch {self.per_replica_batch}/replica = {self.global_batch} global; "
                f"learning rates ×{self.lr_factor:g}; {self.precision}; "
                f"XLA {'on' if self.jit else 'off'}")  # fmt: skip


def _tf_config() -> dict:
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): {text[:200]!r}") from err
    if not isinstance(value, dict):
        raise ValueError(f"TF_CONFIG must be a JSON object, got {text[:200]!r}")
    return value


def _has_chief() -> bool:
    return bool(_tf_config().get("cluster", {}).get("chief"))


def choose_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """Return the ``tf.distribute`` strategy for ``--strategy name``.

    Raises:
        ValueError: for an unknown name, or ``multi_worker`` without a usable
            ``TF_CONFIG``.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "default"
    if name == "multi_worker":
        config = _tf_config()
        if not config.get("cluster") or not config.get("task"):
            raise ValueError(
                "--strategy multi_worker needs TF_CONFIG with 'cluster' and 'task', e.g. "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                '"task": {"type": "worker", "index": 0}}; got '
                f"{os.environ.get('TF_CONFIG', '(unset)')!r}")  # fmt: skip
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus)
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")


def resolve_precision(name: str = "auto") -> str:
    """``fp32``/``bf16``/``fp16`` for ``--precision name`` on this machine."""
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; expected one of {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "fp32"
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    return "bf16" if capability and capability >= (8, 0) else "fp16"


def set_precision(precision: str) -> None:
    """Set Keras' global dtype policy for models built from now on."""
    keras.mixed_precision.set_dtype_policy(POLICIES[precision])


def lr_factor(rule: str, replicas: int) -> float:
    """The learning-rate multiplier of ``--lr-scaling rule`` for ``replicas``."""
    if rule == "linear":
        return float(replicas)
    if rule == "sqrt":
        return math.sqrt(replicas)
    if rule == "none":
        return 1.0
    raise ValueError(f"unknown --lr-scaling {rule!r}; expected one of {', '.join(LR_SCALINGS)}")


def setup_from(config: ExecutionConfig) -> Execution:
    """:func:`setup` with a run config's ``strategy``, ``precision``, ``jit``, ``batch_size``, ``lr_scaling``."""
    return setup(config.strategy, config.precision, config.jit, config.batch_size,
                 config.lr_scaling)  # fmt: skip


def setup(
    strategy: str = "auto",
    precision: str = "auto",
    jit: bool | None = None,
    batch_size: int = 32,
    lr_scaling: str = "sqrt",
) -> Execution:
    """Create the strategy and set the precision policy; call before other TF work.

    Args:
        strategy: ``--strategy``.
        precision: ``--precision``.
        jit: ``--jit``; ``None`` picks the default described above.
        batch_size: per-replica batch.
        lr_scaling: ``--lr-scaling``.
    """
    chosen = choose_strategy(strategy)
    resolved = resolve_precision(precision)
    if resolved == "fp16" and chosen.num_replicas_in_sync > 1:
        if precision == "fp16":
            raise ValueError(
                f"--precision fp16 with {chosen.num_replicas_in_sync} replicas is not supported: "
                "Keras' LossScaleOptimizer checks only the first replica's gradients for inf/NaN, "
                "so an overflow on another replica is applied; use --precision bf16 or fp32")
        log.warning("several replicas: fp32 instead of fp16 (Keras' loss scaling checks only "
                    "the first replica's gradients); bf16 needs compute capability 8.0")
        resolved = "fp32"
    set_precision(resolved)
    if jit is None:
        single = chosen.num_replicas_in_sync == 1 and not isinstance(
            chosen, tf.distribute.MultiWorkerMirroredStrategy)
        jit = single and bool(tf.config.list_physical_devices("GPU"))
    task = _tf_config().get("task", {}) if isinstance(
        chosen, tf.distribute.MultiWorkerMirroredStrategy) else {}
    execution = Execution(
        strategy=chosen, precision=resolved, jit=bool(jit), per_replica_batch=batch_size,
        lr_factor=lr_factor(lr_scaling, int(chosen.num_replicas_in_sync)),
        task_type=task.get("type"), task_id=int(task.get("index", 0)),
    )  # fmt: skip
    log.info("execution: %s", execution.describe())
    return execution
