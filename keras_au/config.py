"""Typed run configuration: one dataclass per kind of run, with named presets.

Every entry point builds its config the same way: preset → command-line
overrides → :meth:`RunConfig.validate`. The run directory records the config
it ran with (``config.json``), so a run can be reproduced and resumed.

Presets of :class:`PretrainConfig`:

``default``
    The out-of-the-box run, sized for a laptop CPU (≈ 7 minutes on 2 cores,
    data generation included): the ``compact`` member of the AUNet family
    (same named blocks, one conv per block, one 256-unit dense layer, the
    paper's dropout and augmentation) on 10,000 synthetic faces, 12 epochs,
    Adam at a constant 1e-3. Why not the paper's network: on 2 CPU cores it
    trains at ~35 img/s and, measured here, was still predicting the base
    rate (validation AUC 0.50) after 310 steps of Adam at 3e-4, and after
    200 steps at 1e-4 and with BatchNorm at 1e-3 — a 10-minute run has
    ~375 such steps. The compact network trains at ~400 img/s and leaves the
    base rate within the first epoch.
``paper``
    The paper's VGG13-like network and recipe for full runs (a GPU): Adam (β1 = 0.9), batch 32, learning
    rate 0.005 for 20 epochs, 0.0025 for the next 20, then 0.0005, up to 300
    epochs, with a one-epoch linear warm-up so the first steps do not stall.
``smoke``
    A few steps on a tiny synthetic set: what the end-to-end tests run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Dataset names that ``--dataset`` accepts. ``auto`` picks ``ms_celeb_au``
#: when ``--data-dir`` holds the seed layout, else the synthetic set.
DATASETS = ("auto", "synthetic", "ms_celeb_au")
#: ``--strategy``, ``--precision``, ``--lr-scaling`` (see ``keras_au.distribute``).
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
LR_SCALINGS = ("linear", "sqrt", "none")
ARCHITECTURE_NAMES = ("paper", "compact")
MONITORS = ("val_loss", "val_macro_f1")


class RunConfig:
    """Behaviour shared by every run config (all are dataclasses)."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def save(self, path: str | Path) -> None:
        """Write the config as indented JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Any:
        """Build a config from a dict, rejecting unknown keys.

        Raises:
            ValueError: naming keys that are not fields of the config.
        """
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; known: {sorted(names)}")
        kwargs = {}
        for key, value in values.items():
            if isinstance(value, list):
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)


@dataclasses.dataclass
class ExecutionConfig(RunConfig):
    """How a training run executes; shared by every training config.

    See :mod:`keras_au.distribute`: ``strategy`` (``TF_CONFIG`` for
    ``multi_worker``), ``precision`` (``auto`` = bf16 on recent GPUs, fp16 on
    older ones, fp32 on CPU), ``jit`` (XLA; ``None`` = on for one GPU only),
    ``lr_scaling`` (learning rates × √replicas for ``sqrt``, × replicas for ``linear``). ``batch_size``
    of a config is per replica.
    """

    strategy: str = "auto"
    precision: str = "auto"
    jit: bool | None = None
    lr_scaling: str = "sqrt"

    def validate_execution(self) -> None:
        """Check the execution fields; raise ``ValueError`` naming the bad one."""
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("lr_scaling", self.lr_scaling, LR_SCALINGS)


@dataclasses.dataclass
class PretrainConfig(ExecutionConfig):
    """Configuration of one pre-training run (see module docstring for presets)."""

    preset: str = "default"
    architecture: str = "compact"
    # Data.
    dataset: str = "auto"
    data_dir: str | None = None
    tfds_dir: str | None = None
    synthetic_train: int = 10000
    synthetic_validation: int = 500
    synthetic_test: int = 1000
    synthetic_seed: int = 0
    val_split: str | None = None
    augment: bool = True
    cache: bool = True
    shuffle_buffer: int = 4096
    # Optimisation (the paper's recipe, with the short default's values).
    epochs: int = 12
    steps_per_epoch: int | None = None
    batch_size: int = 32
    learning_rates: tuple[float, ...] = (1e-3,)
    lr_boundaries: tuple[int, ...] = ()
    warmup_epochs: float = 0.0
    beta_1: float = 0.9
    monitor: str = "val_loss"
    # Where and how.
    model_dir: str = "models/pretrain"
    seed: int = 0
    verbose: int = 1

    def validate(self) -> PretrainConfig:
        """Check every field; raise ``ValueError`` naming the bad one.

        Returns:
            ``self``, for chaining.
        """
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("architecture", self.architecture, ARCHITECTURE_NAMES)
        self.validate_execution()
        _check_choice("monitor", self.monitor, MONITORS)
        for name in ("synthetic_train", "synthetic_validation", "synthetic_test"):
            _check_positive(name, getattr(self, name))
        for name in ("epochs", "batch_size", "shuffle_buffer"):
            _check_positive(name, getattr(self, name))
        if self.steps_per_epoch is not None:
            _check_positive("steps_per_epoch", self.steps_per_epoch)
        if not self.learning_rates or any(lr <= 0 for lr in self.learning_rates):
            raise ValueError(
                f"--learning-rates must be positive numbers, got {self.learning_rates}"
            )
        if len(self.lr_boundaries) != len(self.learning_rates) - 1:
            raise ValueError(
                f"--lr-boundaries needs {len(self.learning_rates) - 1} epoch(s) for "
                f"{len(self.learning_rates)} learning rate(s), got {self.lr_boundaries}"
            )
        if list(self.lr_boundaries) != sorted(set(self.lr_boundaries)) or any(
            b <= 0 for b in self.lr_boundaries
        ):
            raise ValueError(
                f"--lr-boundaries must be increasing positive epochs, got "
                f"{self.lr_boundaries}"
            )
        if self.warmup_epochs < 0:
            raise ValueError(f"--warmup-epochs must be >= 0, got {self.warmup_epochs}")
        if not 0 <= self.beta_1 < 1:
            raise ValueError(f"--beta-1 must be in [0, 1), got {self.beta_1}")
        return self


PRETRAIN_PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {
        "architecture": "paper",
        "synthetic_train": 50000,
        "synthetic_validation": 2500,
        "synthetic_test": 5000,
        "epochs": 300,
        "batch_size": 32,
        "learning_rates": (0.005, 0.0025, 0.0005),
        "lr_boundaries": (20, 40),
        "warmup_epochs": 1.0,
    },
    "smoke": {
        "synthetic_train": 64,
        "synthetic_validation": 32,
        "synthetic_test": 32,
        "epochs": 1,
        "steps_per_epoch": 2,
        "batch_size": 16,
        "shuffle_buffer": 64,
        "verbose": 0,
    },
}


def pretrain_preset(name: str, **overrides: Any) -> PretrainConfig:
    """Return the named preset with ``overrides`` applied, validated.

    Raises:
        ValueError: for an unknown preset or a bad override.
    """
    _check_choice("preset", name, tuple(PRETRAIN_PRESETS))
    values = {**PRETRAIN_PRESETS[name], **overrides, "preset": name}
    return PretrainConfig.from_dict(values).validate()


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        flag = "--" + name.replace("_", "-")
        raise ValueError(f"{flag} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value <= 0:
        flag = "--" + name.replace("_", "-")
        raise ValueError(f"{flag} must be a positive integer, got {value!r}")


FINETUNE_DATASETS = ("auto", "synthetic", "disfa")
FOLD_CHOICES = ("1", "2", "3", "all")


@dataclasses.dataclass
class FinetuneConfig(ExecutionConfig):
    """Configuration of fine-tuning on DISFA folds (see ``keras_au.finetune``).

    ``phases`` is the unfreezing schedule: each entry is
    ``"BLOCKS:EPOCHS:LEARNING_RATE"`` with BLOCKS a ``+``-joined list of
    :class:`keras_au.model.AUNet` block names (``block1`` … ``fc1`` …
    ``head``) or groups (``conv``, ``dense``, ``all``). The default trains
    the new head alone for 2 epochs at 1e-3, then the dense blocks with it
    for 3 epochs at 3e-4, then everything for 10 epochs at 1e-4. ``--from-scratch`` trains every block for the
    same total number of epochs at ``scratch_learning_rate``.
    """

    preset: str = "default"
    fold: str = "1"
    scheme: str = "paper"
    aus: str = "disfa"
    pretrained: str | None = None
    from_scratch: bool = False
    architecture: str = "compact"
    # Data.
    dataset: str = "auto"
    data_dir: str | None = None
    tfds_dir: str | None = None
    synthetic_frames: int = 300
    synthetic_seed: int = 0
    validation_subjects: int = 3
    augment: bool = True
    cache: bool = True
    shuffle_buffer: int = 4096
    # Optimisation.
    phases: tuple[str, ...] = ("head:2:0.001", "dense+head:3:0.0003", "all:10:0.0001")
    scratch_learning_rate: float = 3e-4
    batch_size: int = 32
    steps_per_epoch: int | None = None
    pos_weight: bool = False
    beta_1: float = 0.9
    monitor: str = "val_loss"
    # Where and how.
    model_dir: str = "models/finetune"
    seed: int = 0
    verbose: int = 1

    def validate(self) -> FinetuneConfig:
        """Check every field; raise ``ValueError`` naming the bad one."""
        _check_choice("fold", str(self.fold), FOLD_CHOICES)
        _check_choice("scheme", self.scheme, ("paper", "standard"))
        _check_choice("dataset", self.dataset, FINETUNE_DATASETS)
        _check_choice("architecture", self.architecture, ARCHITECTURE_NAMES)
        self.validate_execution()
        _check_choice("monitor", self.monitor, MONITORS)
        for name in ("synthetic_frames", "validation_subjects", "batch_size", "shuffle_buffer"):
            _check_positive(name, getattr(self, name))
        if self.steps_per_epoch is not None:
            _check_positive("steps_per_epoch", self.steps_per_epoch)
        if self.scratch_learning_rate <= 0:
            raise ValueError(f"--scratch-learning-rate must be > 0, got {self.scratch_learning_rate}")
        parse_phases(self.phases)
        return self


@dataclasses.dataclass(frozen=True)
class Phase:
    """One step of the unfreezing schedule."""

    blocks: tuple[str, ...]
    epochs: int
    learning_rate: float


def parse_phases(specs: tuple[str, ...]) -> list[Phase]:
    """Parse ``("head:1:0.001", "all:2:1e-4")`` into :class:`Phase` objects.

    Block names are checked against the model later; here only the shape.

    Raises:
        ValueError: naming the entry that is malformed.
    """
    if not specs:
        raise ValueError("--phases needs at least one BLOCKS:EPOCHS:LR entry")
    phases = []
    for spec in specs:
        parts = spec.split(":")
        try:
            blocks, epochs, lr = parts[0], int(parts[1]), float(parts[2])
            if len(parts) != 3 or not blocks or epochs <= 0 or lr <= 0:
                raise ValueError
        except (ValueError, IndexError) as err:
            raise ValueError(
                f"--phases entry {spec!r} is not BLOCKS:EPOCHS:LR with positive "
                "EPOCHS and LR, e.g. 'dense+head:1:0.0003'"
            ) from err
        phases.append(Phase(tuple(blocks.split("+")), epochs, lr))
    return phases


FINETUNE_PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {
        "architecture": "paper",
        "phases": ("head:2:0.001", "dense+head:5:0.0005", "all:20:0.0001"),
        "synthetic_frames": 1000,
    },
    "smoke": {
        "synthetic_frames": 3,
        "phases": ("head:1:0.001", "all:1:0.0001"),
        "steps_per_epoch": 1,
        "batch_size": 8,
        "shuffle_buffer": 64,
        "verbose": 0,
    },
}


def finetune_preset(name: str, **overrides: Any) -> FinetuneConfig:
    """Return the named fine-tuning preset with ``overrides`` applied, validated."""
    _check_choice("preset", name, tuple(FINETUNE_PRESETS))
    values = {**FINETUNE_PRESETS[name], **overrides, "preset": name}
    return FinetuneConfig.from_dict(values).validate()
