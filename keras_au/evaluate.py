"""Score any saved model on any split of any AU dataset, with figures.

    python -m keras_au.evaluate --model models/finetune/fold2/best.keras --fold 2
    python -m keras_au.evaluate --model a.keras --name pretrained \\
                                --model b.keras --name scratch --fold 2 -o models/compare
    python -m keras_au.evaluate --model models/pretrain/best.keras --dataset synthetic_pretrain

Writes into ``-o`` (default ``models/evaluate/``): ``metrics.json`` (per model,
the same metrics as ``pretrain``/``finetune``, at 0.5 and at the model's own
thresholds), ``f1_bars.png``, ``pr_curves.png`` and, when a ``history.csv``
sits beside a model, ``training_curves.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keras_au import cli

DATASETS = ("auto", "synthetic_pretrain", "synthetic_disfa", "ms_celeb_au", "disfa")


def open_dataset(name: str, data_dir: str | None, tfds_dir: str | None,
                 synthetic_config: str | None = None) -> Any:
    """Prepare one of :data:`DATASETS`.

    Synthetic sets use their default sizes unless ``synthetic_config`` names
    another predefined config (e.g. ``disfa_tiny``).
    """
    from keras_au import data

    where = data.tfds_dir_for(data_dir, tfds_dir)
    if name.startswith("synthetic_"):
        if synthetic_config:
            from tfds_builders.synthetic_au.synthetic_au_dataset_builder import Builder

            known = [c.name for c in Builder.BUILDER_CONFIGS]
            if synthetic_config not in known:
                raise ValueError(f"--synthetic-config must be one of {', '.join(known)}; "
                                 f"got {synthetic_config!r}")
            return data.prepare(Builder(data_dir=str(where), config=synthetic_config))
        return data.synthetic_builder(name.removeprefix("synthetic_"), where)
    folder, pattern = {"ms_celeb_au": ("pre_train_images", "*_label.csv"),
                       "disfa": ("fine_tune_images", "fold*_*.csv")}[name]
    return data.manual_builder(name, data.seed_layout_dir(data_dir, folder, pattern), where)


def resolve_split(builder: Any, split: str | None, fold: int | None, scheme: str) -> str:
    """The split to score: ``--split`` as given, or the test subjects of ``--fold``."""
    from keras_au import folds

    if fold is not None:
        if split:
            raise ValueError("give either --split or --fold, not both")
        _, test = folds.fold_subjects(fold, scheme)
        present = [s for s in test if s in builder.info.splits]
        if not present:
            raise ValueError(f"the dataset has none of fold {fold}'s test subjects")
        return folds.split_spec(present)
    return split or "test"


def evaluate_models(args: argparse.Namespace) -> dict[str, Any]:
    """Load every model, score the split once per model, write files and figures."""
    from keras_au import data, metrics, plots, train
    from keras_au.finetune import load_pretrained

    train.setup_logging(1)
    names = args.name or []
    if names and len(names) != len(args.model):
        raise ValueError(f"got {len(names)} --name for {len(args.model)} --model")
    models = {names[i] if names else Path(m).parent.name or Path(m).stem: load_pretrained(m)
              for i, m in enumerate(args.model)}
    first = next(iter(models.values()))
    dataset = args.dataset
    if dataset == "auto":
        dataset = "synthetic_disfa" if len(first.au_names) <= 12 else "synthetic_pretrain"
    builder = open_dataset(dataset, args.data_dir, args.tfds_dir, args.synthetic_config)
    split = resolve_split(builder, args.split, args.fold, args.scheme)
    au_names = list(first.au_names)
    for name, model in models.items():
        if list(model.au_names) != au_names:
            raise ValueError(f"model {name!r} predicts {model.au_names}, not {au_names}")
    ds = data.make_dataset(builder, split, args.batch_size, training=False, au_names=au_names,
                           cache=False)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, probs = {}, {}
    for name, model in models.items():
        y_true, probs[name] = train.predict_with_labels(model, ds)
        results[name] = metrics.evaluate_predictions(y_true, probs[name], au_names)
        results[name]["at_model_thresholds"] = metrics.evaluate_predictions(
            y_true, probs[name], au_names, model.decision_thresholds())
        print(metrics.format_table(results[name], f"{name} on {builder.info.full_name} {split!r}:"))
    metrics.write_json(out / "metrics.json", {"dataset": builder.info.full_name, "split": split,
                                              "models": results})
    plots.f1_bars(results, out / "f1_bars.png", f"{builder.info.full_name} {split[:60]}")
    plots.pr_curves(y_true, probs, au_names, out / "pr_curves.png")
    histories = {n: Path(m).parent / train.HISTORY_FILE for n, m in zip(models, args.model, strict=True)}
    histories = {n: h for n, h in histories.items() if h.is_file()}
    if histories:
        plots.training_curves(histories, out / "training_curves.png")
    print(f"wrote {out}/metrics.json and figures")
    return results


def build_parser() -> argparse.ArgumentParser:
    """The ``evaluate`` command line."""
    p = argparse.ArgumentParser(prog="python -m keras_au.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("--model", action="append", required=True, help=".keras file (repeatable)")
    p.add_argument("--name", action="append", help="label of each --model, in order")
    p.add_argument("--dataset", choices=DATASETS, default="auto",
                   help="auto: synthetic_disfa for <= 12 AUs, else synthetic_pretrain")
    p.add_argument("-d", "--data-dir", help="folder holding pre_train_images/ or fine_tune_images/")
    p.add_argument("--tfds-dir", help="where TFRecords live (default DATA_DIR/tfds or data/tfds)")
    p.add_argument("--synthetic-config", help="a predefined synthetic_au config, e.g. disfa_tiny")
    p.add_argument("--split", help="TFDS split spec (default: test)")
    p.add_argument("--fold", type=int, choices=(1, 2, 3), help="score this DISFA fold's test subjects")
    p.add_argument("--scheme", choices=("paper", "standard"), default="paper")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("-o", "--output-dir", default="models/evaluate")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m keras_au.evaluate``."""
    args = build_parser().parse_args(argv)
    return cli.run(lambda: (evaluate_models(args), 0)[1], "keras_au.evaluate")


if __name__ == "__main__":
    raise SystemExit(main())
