"""Fine-tune a pre-trained AU network per subject-exclusive DISFA fold.

    python -m keras_au.finetune --fold 2                 # synthetic disfa, from models/pretrain/best.keras
    python -m keras_au.finetune --fold all               # three folds + cv_summary.{json,md}
    python -m keras_au.finetune --fold 2 --from-scratch  # the baseline, same data and budget
    python -m keras_au.finetune --fold 1 -d data         # real DISFA in data/fine_tune_images/

The network up to the second 1024 block is kept and a new sigmoid head is put
on it for the fold's AUs. Training follows ``--phases``: the head alone first,
then blocks unfrozen top-down at lower learning rates, recompiling at each
phase. A subject-exclusive validation set is carved from the fold's training
subjects; the checkpoint and the per-AU thresholds are chosen on it, and the
test subjects are scored once, at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
import time
from pathlib import Path
from typing import Any

from keras_au import cli, folds
from keras_au.config import FINETUNE_PRESETS, FinetuneConfig, finetune_preset, parse_phases

log = logging.getLogger("keras_au.finetune")

#: Where ``pretrain`` leaves its best model.
DEFAULT_PRETRAINED = Path("models/pretrain/best.keras")


@dataclasses.dataclass(frozen=True)
class FoldPlan:
    """Subjects of one fold: disjoint train, validation and test sets."""

    fold: int
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]


def plan_fold(fold: int, scheme: str, available: list[str], num_validation: int) -> FoldPlan:
    """Split a fold's subjects, keeping only those the dataset has.

    Raises:
        ValueError: if the dataset lacks every test subject, or leaves too
            few training subjects for the validation carve-out.
    """
    train_all, test = folds.fold_subjects(fold, scheme)
    have = set(available)
    test = tuple(s for s in test if s in have)
    train_all = tuple(s for s in train_all if s in have)
    if not test:
        raise ValueError(f"the dataset has none of fold {fold}'s test subjects; it has {sorted(have)}")
    if len(train_all) <= num_validation:
        raise ValueError(
            f"fold {fold} has {len(train_all)} training subjects in this dataset; "
            f"cannot hold out {num_validation} for validation (--validation-subjects)")
    train, validation = folds.hold_out(train_all, num_validation)
    return FoldPlan(fold, train, validation, test)


def load_pretrained(path: str | Path) -> Any:
    """Load a pre-trained ``AUNet`` with a clear error for every way it can fail."""
    import keras

    from keras_au.model import AUNet

    path = Path(path)
    hint = "run `python -m keras_au.pretrain` first, pass --pretrained PATH, or --from-scratch"
    if not path.is_file():
        raise FileNotFoundError(f"pretrained model {str(path)!r} does not exist; {hint}")
    try:
        model = keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ValueError(f"{str(path)!r} is not a loadable Keras model file: "
                         f"{type(err).__name__}: {str(err).splitlines()[0][:200]}") from err
    if not isinstance(model, AUNet):
        raise ValueError(f"{str(path)!r} holds a {type(model).__name__}, not a keras_au AUNet; "
                         "its layers do not match the network fine-tuning expects")
    return model


def phase_blocks(model: Any, phase: Any) -> list[str]:
    """The block names a phase trains, with the group names expanded.

    Groups: ``all`` (every block), ``conv`` (every ``blockN``), ``dense``
    (every ``fcN``); anything else must be a block name of ``model``.
    """
    groups = {
        "all": list(model.block_names),
        "conv": [b for b in model.block_names if b.startswith("block")],
        "dense": [b for b in model.block_names if b.startswith("fc")],
    }
    names: list[str] = []
    for token in phase.blocks:
        names.extend(groups.get(token, [token]))
    return list(dict.fromkeys(names))


def build_model(config: FinetuneConfig, au_names: list[str]) -> Any:
    """The fold's starting model: pre-trained trunk + new head, or from scratch."""
    from keras_au.model import build_aunet, with_new_head

    if config.from_scratch:
        return build_aunet(config.architecture, au_names)
    base = load_pretrained(config.pretrained or DEFAULT_PRETRAINED)
    return with_new_head(base, au_names)


def resolve_data(config: FinetuneConfig, wait: bool = False) -> Any:
    """Prepare the synthetic ``disfa`` config or the real ``disfa`` builder.

    ``wait``: let another process (the chief) prepare it; see ``data.prepare``.
    """
    from keras_au import data

    dataset = config.dataset
    if dataset == "auto":
        dataset = "disfa" if config.data_dir else "synthetic"
    tfds_dir = data.tfds_dir_for(config.data_dir, config.tfds_dir)
    if dataset == "synthetic":
        return data.synthetic_builder("disfa", tfds_dir, frames_per_subject=config.synthetic_frames,
                                      seed=config.synthetic_seed, wait=wait)
    manual = data.seed_layout_dir(config.data_dir, "fine_tune_images", "fold*_*.csv")
    return data.manual_builder("disfa", manual, tfds_dir, wait=wait)


def run_fold(config: FinetuneConfig, fold: int, builder: Any, execution: Any) -> dict[str, Any]:
    """Fine-tune and evaluate one fold; write its run directory.

    Returns:
        The fold's metrics (also written to ``fold{k}/metrics.json``); ``{}``
        on a worker other than the chief, which scores nothing.
    """
    import keras

    from keras_au import aus, data, loop, metrics, train
    from keras_au.augment import PAPER_AUGMENTATION

    available_aus = data.builder_au_names(builder)
    au_names = list(aus.parse_au_list(config.aus))
    aus.au_indices(au_names, available_aus)  # raises naming AUs the dataset lacks
    plan = plan_fold(fold, config.scheme, list(builder.info.splits), config.validation_subjects)
    run_config = {**config.to_dict(), "fold": fold, "subjects": dataclasses.asdict(plan)}
    fold_dir = Path(config.model_dir) / f"fold{fold}"
    run_dir, resuming = train.prepare_run_dir(execution.work_dir(fold_dir), run_config)
    split = {k: folds.split_spec(getattr(plan, k)) for k in ("train", "validation", "test")}
    n_train = data.split_size(builder, split["train"])
    batch = execution.global_batch
    steps = config.steps_per_epoch or max(1, n_train // batch)
    log.info("fold %d: train %s (%d frames), validation %s, test %s", fold,
             ",".join(plan.train), n_train, ",".join(plan.validation), ",".join(plan.test))
    common = {"au_names": au_names, "cache": config.cache, "seed": config.seed}

    def train_fn(context: Any = None, first_epoch: int = 0) -> Any:
        # a later phase draws other batches and augmentations than the first
        return data.make_dataset(builder, split["train"], batch, training=True,
                                 shuffle_buffer=config.shuffle_buffer, input_context=context,
                                 augment_params=PAPER_AUGMENTATION if config.augment else None,
                                 **{**common, "seed": config.seed + 1009 * first_epoch})  # fmt: skip

    val_ds = data.make_dataset(builder, split["validation"], batch, training=False, **common)
    loss = _loss(config, builder, split["train"], au_names, available_aus)

    keras.utils.set_random_seed(config.seed)
    strategy = execution.strategy
    with strategy.scope():
        model = build_model(config, au_names)
    phases = parse_phases(config.phases)
    if config.from_scratch:
        total = sum(p.epochs for p in phases)
        phases = [dataclasses.replace(phases[0], blocks=("all",), epochs=total,
                                      learning_rate=config.scratch_learning_rate)]
    started, epoch = time.perf_counter(), 0
    for i, phase in enumerate(phases, start=1):
        blocks = phase_blocks(model, phase)
        done_marker = run_dir / f"phase{i}.weights.h5"
        if resuming and done_marker.exists():
            model.load_weights(done_marker)
            epoch += phase.epochs
            continue
        with strategy.scope():
            model.set_trainable_blocks(blocks)
            train.compile_model(model, phase.learning_rate * execution.lr_factor, config.beta_1,
                                loss=loss, jit=execution.jit)  # fmt: skip
        log.info("phase %d: training %s for %d epoch(s) at lr %g (%d trainable weights)",
                 i, "+".join(blocks), phase.epochs, phase.learning_rate,
                 len(model.trainable_weights))
        callbacks = train.make_callbacks(run_dir, config.monitor, batch, steps,
                                         backup_name=f"phase{i}")
        model._initial_epoch = None  # noqa: SLF001 - BackupAndRestore leaves it set across fits
        loop.fit(model, functools.partial(train_fn, first_epoch=epoch), val_ds, execution,
                 initial_epoch=epoch,
                 epochs=epoch + phase.epochs, steps_per_epoch=steps, callbacks=callbacks,
                 verbose=config.verbose)  # fmt: skip
        model.save_weights(done_marker)
        epoch += phase.epochs
    train_seconds = time.perf_counter() - started
    if not execution.is_chief:  # the chief chooses thresholds, scores and reports
        execution.finish(fold_dir)
        return {}

    best = execution.load_model(run_dir / train.BEST_MODEL)
    thresholds = metrics.best_thresholds(*train.predict_with_labels(best, val_ds))
    best.thresholds = [float(t) for t in thresholds]
    best.set_trainable_blocks(best.block_names)  # saved unfrozen, whatever phase it came from
    best.save(run_dir / train.BEST_MODEL)
    test_ds = data.make_dataset(builder, split["test"], batch, training=False,
                                au_names=au_names, cache=False)
    y_test, p_test = train.predict_with_labels(best, test_ds)
    results = metrics.evaluate_predictions(y_test, p_test, au_names)
    results["at_validation_thresholds"] = metrics.evaluate_predictions(
        y_test, p_test, au_names, thresholds)
    results.update(fold=fold, subjects=dataclasses.asdict(plan), from_scratch=config.from_scratch,
                   train_seconds=round(train_seconds, 1), dataset=builder.info.full_name)
    metrics.write_json(run_dir / train.METRICS_FILE, results)
    for marker in run_dir.glob("phase*.weights.h5"):
        marker.unlink()
    train.remove_backup(run_dir)
    print(metrics.format_table(results, f"Fold {fold} test subjects {', '.join(plan.test)}:"))
    print("macro F1 at validation thresholds: "
          + metrics.fmt(results["at_validation_thresholds"]["macro_f1"]))
    return results


def _loss(config: FinetuneConfig, builder: Any, split: str, au_names: list[str],
          available: list[str]) -> Any:
    """Binary cross-entropy, optionally weighting positives by training-fold rarity."""
    if not config.pos_weight:
        return None
    import numpy as np

    from keras_au import aus, data, train

    labels = data.collect_labels(builder, split, ("aus",))["aus"]
    rates = labels[:, aus.au_indices(au_names, available)].mean(axis=0)
    weights = np.clip((1 - rates) / np.maximum(rates, 1e-3), 1.0, 20.0)
    log.info("positive weights: %s", dict(zip(au_names, np.round(weights, 2), strict=True)))
    return train.WeightedBinaryCrossentropy(weights.tolist())


def run_finetuning(config: FinetuneConfig) -> dict[str, Any]:
    """Run one fold, or all three and the cross-validation summary."""
    from keras_au import cv_report, distribute, train

    train.setup_logging(config.verbose)
    config.validate()
    execution = distribute.setup_from(config)  # before any other TensorFlow work
    builder = resolve_data(config, wait=not execution.is_chief)
    if str(config.fold) != "all":
        return run_fold(config, int(config.fold), builder, execution)
    per_fold = {k: run_fold(config, k, builder, execution) for k in sorted(folds.paper_folds())}
    if not execution.is_chief:
        return {}
    return cv_report.write_summary(Path(config.model_dir), per_fold, config)


def build_parser() -> argparse.ArgumentParser:
    """The ``finetune`` command line."""
    return cli.config_parser(
        "python -m keras_au.finetune",
        "Fine-tune a pre-trained AU network per subject-exclusive DISFA fold.",
        FinetuneConfig, FINETUNE_PRESETS)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m keras_au.finetune``."""
    return cli.run_config(argv, build_parser(), FinetuneConfig, finetune_preset, run_finetuning)


if __name__ == "__main__":
    raise SystemExit(main())
