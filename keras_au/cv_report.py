"""Cross-validation summary: per-AU F1 over the three folds, laid out like the paper.

Writes ``cv_summary.json`` (everything) and ``cv_summary.md`` (rows = AUs,
columns = folds and mean ± std, plus the 8-AU average papers report on DISFA
and the average over all AUs).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from keras_au.aus import DISFA_EVAL_AUS, FACS_NAMES
from keras_au.metrics import write_json


def summarize(per_fold: Mapping[int, Mapping[str, Any]], key: str | None = None) -> dict[str, Any]:
    """Per-AU F1 of each fold with mean and std.

    Args:
        per_fold: ``{fold: metrics}`` as written to each fold's ``metrics.json``.
        key: read the F1 values from ``metrics[key]`` (e.g.
            ``"at_validation_thresholds"``) instead of the top level.
    """
    folds = sorted(per_fold)
    tables = {k: (per_fold[k][key] if key else per_fold[k])["per_au_f1"] for k in folds}
    au_names = list(tables[folds[0]])
    rows: dict[str, dict[str, float | None]] = {}
    def row(values: list[float]) -> dict[str, float | None]:
        out = {f"fold{k}": _num(v) for k, v in zip(folds, values, strict=True)}
        finite = [v for v in values if not np.isnan(v)]
        out.update(mean=_num(np.mean(finite)) if finite else None,
                   std=_num(np.std(finite)) if finite else None)
        return out

    def value(k: int, au: str) -> float:
        v = tables[k][au]
        return np.nan if v is None else float(v)

    for au in au_names:
        rows[au] = row([value(k, au) for k in folds])
    averages = {"all": au_names, "disfa8": [a for a in DISFA_EVAL_AUS if a in au_names]}
    for label, names in averages.items():
        if names:
            rows[f"avg_{label}"] = row([float(np.nanmean([value(k, a) for a in names]))
                                        for k in folds])
    return {"folds": folds, "rows": rows}


def _num(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 6)


def to_markdown(summary: Mapping[str, Any], title: str) -> str:
    """Render :func:`summarize` output as a markdown table (F1 in %)."""
    folds = summary["folds"]
    head = "| AU | name | " + " | ".join(f"fold {k}" for k in folds) + " | mean ± std |"
    lines = [f"### {title}", "", head, "|" + "---|" * (len(folds) + 3)]
    for au, row in summary["rows"].items():
        label = {"avg_all": "**avg (all AUs)**", "avg_disfa8": "**avg (8 AUs: 1 2 4 6 9 12 25 26)**"}
        name = FACS_NAMES.get(au, "")
        cells = " | ".join(_pct(row[f"fold{k}"]) for k in folds)
        spread = "n/a" if row["mean"] is None else f"{_pct(row['mean'])} ± {_pct(row['std'])}"
        lines.append(f"| {label.get(au, au)} | {name} | {cells} | {spread} |")
    return "\n".join(lines) + "\n"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}"


def write_summary(model_dir: Path, per_fold: Mapping[int, Mapping[str, Any]], config: Any) -> dict[str, Any]:
    """Write ``cv_summary.json`` and ``cv_summary.md`` into ``model_dir``."""
    result = {
        "at_0.5": summarize(per_fold),
        "at_validation_thresholds": summarize(per_fold, "at_validation_thresholds"),
        "config": config.to_dict(),
        "train_seconds": {f"fold{k}": m.get("train_seconds") for k, m in per_fold.items()},
    }
    write_json(model_dir / "cv_summary.json", result)
    kind = "from scratch" if config.from_scratch else "fine-tuned from the pre-trained model"
    md = (f"# Cross-validation F1 (%) on {next(iter(per_fold.values()))['dataset']}, {kind}\n\n"
          + to_markdown(result["at_0.5"], "Threshold 0.5") + "\n"
          + to_markdown(result["at_validation_thresholds"], "Per-AU thresholds chosen on validation"))
    (model_dir / "cv_summary.md").write_text(md)
    print(md)
    return result


def compare(runs: Mapping[str, Path], key: str = "at_0.5") -> str:
    """Markdown table of mean per-AU F1 (%) of several ``--fold all`` runs side by side.

    Args:
        runs: ``{label: model dir holding cv_summary.json}``.
        key: ``"at_0.5"`` or ``"at_validation_thresholds"``.
    """
    import json

    summaries = {}
    for label, where in runs.items():
        path = Path(where) / "cv_summary.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; run `finetune --fold all` first")
        summaries[label] = json.loads(path.read_text())[key]
    labels = list(summaries)
    first = summaries[labels[0]]
    folds = first["folds"]
    lines = ["| AU | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for au in first["rows"]:
        cells = []
        for label in labels:
            row = summaries[label]["rows"].get(au)
            cells.append("n/a" if not row or row["mean"] is None
                         else f"{_pct(row['mean'])} ± {_pct(row['std'])}")
        lines.append(f"| {au} | " + " | ".join(cells) + " |")
    for k in folds:
        cells = [_pct(summaries[label]["rows"]["avg_all"][f"fold{k}"]) for label in labels]
        lines.append(f"| avg, fold {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m keras_au.cv_report LABEL=DIR [LABEL=DIR …]``: compare CV runs."""
    import argparse

    from keras_au import cli

    parser = argparse.ArgumentParser(prog="python -m keras_au.cv_report",
                                     description="Compare finetune --fold all runs.")
    parser.add_argument("runs", nargs="+", help="LABEL=MODEL_DIR, e.g. pretrained=models/finetune")
    parser.add_argument("--thresholds", choices=("0.5", "validation"), default="0.5")
    args = parser.parse_args(argv)

    def go() -> int:
        runs = {}
        for item in args.runs:
            label, sep, where = item.partition("=")
            if not sep:
                raise ValueError(f"expected LABEL=MODEL_DIR, got {item!r}")
            runs[label] = Path(where)
        key = "at_0.5" if args.thresholds == "0.5" else "at_validation_thresholds"
        print(compare(runs, key), end="")
        return 0

    return cli.run(go, "keras_au.cv_report")


if __name__ == "__main__":
    raise SystemExit(main())
