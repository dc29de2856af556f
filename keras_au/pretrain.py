"""Pre-train the paper's network on noisy AU labels.

    python -m keras_au.pretrain                  # built-in synthetic faces, ~10 min on a laptop CPU
    python -m keras_au.pretrain -d data          # data/pre_train_images/ (ms_celeb_au layout)
    python -m keras_au.pretrain --preset paper   # the paper's full recipe

The run directory (``-r``, default ``models/pretrain/``) receives
``config.json``, ``best.keras`` (best validation checkpoint), ``history.csv``,
TensorBoard ``logs/`` and, after the test split is scored once,
``metrics.json``. Kill the run and start the same command again: it resumes
from the last finished epoch.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from typing import Any

from keras_au import cli
from keras_au.config import PRETRAIN_PRESETS, PretrainConfig, pretrain_preset

log = logging.getLogger("keras_au.pretrain")


@dataclasses.dataclass
class PretrainData:
    """A prepared builder and the splits a pre-training run reads."""

    builder: Any
    train_split: str
    val_split: str
    test_split: str
    au_names: list[str]
    #: Extra label features scored on the test split (synthetic: ``aus_true``).
    extra_label_keys: tuple[str, ...] = ()


def resolve_data(config: PretrainConfig, wait: bool = False) -> PretrainData:
    """Pick, prepare and split the dataset a config asks for.

    ``wait``: let another process (the chief) prepare it; see ``data.prepare``.

    Raises:
        ValueError: for a missing data dir or one without the seed layout.
    """
    from keras_au import data

    dataset = config.dataset
    if dataset == "auto":
        dataset = "ms_celeb_au" if config.data_dir else "synthetic"
    tfds_dir = data.tfds_dir_for(config.data_dir, config.tfds_dir)
    if dataset == "synthetic":
        builder = data.synthetic_builder(
            "pretrain", tfds_dir, num_train=config.synthetic_train,
            num_validation=config.synthetic_validation, num_test=config.synthetic_test,
            seed=config.synthetic_seed, wait=wait)
        return PretrainData(builder, "train", config.val_split or "validation", "test",
                            data.builder_au_names(builder), ("aus_true",))
    manual = data.seed_layout_dir(config.data_dir, "pre_train_images", "*_label.csv")
    builder = data.manual_builder("ms_celeb_au", manual, tfds_dir, wait=wait)
    splits = builder.info.splits
    if "train" not in splits or "test" not in splits:
        raise ValueError(
            f"{manual} must hold both train_label.csv and test_label.csv to pre-train; "
            f"found splits {sorted(splits)}")
    val = config.val_split or "train[95%:]"
    train = "train[:95%]" if config.val_split is None else "train"
    return PretrainData(builder, train, val, "test", data.builder_au_names(builder))


def run_pretraining(config: PretrainConfig) -> dict[str, Any]:
    """Train, checkpoint on validation, score the test split once.

    Returns:
        The metrics written to ``metrics.json``.
    """
    import keras

    from keras_au import data, distribute, loop, metrics, train
    from keras_au.augment import PAPER_AUGMENTATION
    from keras_au.model import build_aunet

    train.setup_logging(config.verbose)
    config.validate()
    execution = distribute.setup_from(config)  # before any other TensorFlow work
    keras.utils.set_random_seed(config.seed)
    run_dir, resuming = train.prepare_run_dir(execution.work_dir(config.model_dir),
                                              config.to_dict())  # fmt: skip
    started = time.perf_counter()
    ds_info = resolve_data(config, wait=not execution.is_chief)
    prep_seconds = time.perf_counter() - started
    n_train = data.split_size(ds_info.builder, ds_info.train_split)
    batch = execution.global_batch
    steps = config.steps_per_epoch or max(1, n_train // batch)
    log.info("%s: %d training images, %d steps of %d per epoch%s",
             ds_info.builder.info.full_name, n_train, steps, batch,
             " (resuming)" if resuming else "")

    common = {"au_names": ds_info.au_names, "cache": config.cache, "seed": config.seed}

    def train_fn(context: Any = None) -> Any:
        return data.make_dataset(ds_info.builder, ds_info.train_split, batch, training=True,
                                 shuffle_buffer=config.shuffle_buffer, input_context=context,
                                 augment_params=PAPER_AUGMENTATION if config.augment else None,
                                 **common)  # fmt: skip

    val_ds = data.make_dataset(ds_info.builder, ds_info.val_split, batch, training=False,
                               **common)  # fmt: skip
    with execution.strategy.scope():
        model = build_aunet(config.architecture, ds_info.au_names)
        rates = [lr * execution.lr_factor for lr in config.learning_rates]
        schedule = train.StepSchedule(rates, config.lr_boundaries, steps, config.warmup_epochs)
        train.compile_model(model, schedule, config.beta_1, jit=execution.jit)
    callbacks = train.make_callbacks(run_dir, config.monitor, batch, steps)
    fit_started = time.perf_counter()
    loop.fit(model, train_fn, val_ds, execution, epochs=config.epochs, steps_per_epoch=steps,
             callbacks=callbacks, verbose=config.verbose)  # fmt: skip
    train_seconds = time.perf_counter() - fit_started
    if not execution.is_chief:  # the chief scores and reports
        execution.finish(config.model_dir)
        return {}

    best = execution.load_model(run_dir / train.BEST_MODEL)
    results = score_split(best, ds_info, config)
    results.update(
        dataset=ds_info.builder.info.full_name, train_split=ds_info.train_split,
        val_split=ds_info.val_split, test_split=ds_info.test_split,
        data_prep_seconds=round(prep_seconds, 1), train_seconds=round(train_seconds, 1),
        total_seconds=round(time.perf_counter() - started, 1),
    )
    metrics.write_json(run_dir / train.METRICS_FILE, results)
    print(metrics.format_table(results, f"Test split {ds_info.test_split!r} "
                               f"({results['num_examples']} faces), labels 'aus':"))
    if "true_labels" in results:
        true = results["true_labels"]
        print(f"against the true labels: macro F1 {metrics.fmt(true['macro_f1'])} "
              f"(baseline {metrics.fmt(true['baseline_macro_f1'])})")
    print(f"metrics: {run_dir / train.METRICS_FILE}")
    return results


def score_split(model: Any, ds_info: PretrainData, config: PretrainConfig) -> dict[str, Any]:
    """Metrics of ``model`` on the test split (and against extra label sets)."""
    from keras_au import data, metrics, train

    test_ds = data.make_dataset(ds_info.builder, ds_info.test_split, config.batch_size,
                                training=False, au_names=ds_info.au_names, cache=False)
    probs = train.predict_probs(model, test_ds)
    labels = data.collect_labels(ds_info.builder, ds_info.test_split,
                                 ("aus", *ds_info.extra_label_keys))
    results = metrics.evaluate_predictions(labels["aus"], probs, ds_info.au_names)
    if "aus_true" in labels:
        results["true_labels"] = metrics.evaluate_predictions(
            labels["aus_true"], probs, ds_info.au_names)
    return results


def build_parser() -> argparse.ArgumentParser:
    """The ``pretrain`` command line."""
    return cli.config_parser(
        "python -m keras_au.pretrain",
        "Pre-train the paper's AU network (default: built-in synthetic faces).",
        PretrainConfig, PRETRAIN_PRESETS)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m keras_au.pretrain``."""
    return cli.run_config(argv, build_parser(), PretrainConfig, pretrain_preset, run_pretraining)


if __name__ == "__main__":
    raise SystemExit(main())
