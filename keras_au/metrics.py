"""Per-AU evaluation: F1, precision, recall, AUC, baselines and thresholds.

Everything here works on plain NumPy arrays of shape ``[examples, aus]``, so
it is easy to check against scikit-learn and reuse from any entry point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from keras_au.aus import FACS_NAMES


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-column precision, recall and F1 of binary predictions.

    A column with no predicted (or no true) positives scores 0 for precision
    (or recall), like scikit-learn's ``zero_division=0``.
    """
    y_true = np.asarray(y_true) > 0
    y_pred = np.asarray(y_pred) > 0
    tp = np.sum(y_true & y_pred, axis=0).astype(np.float64)
    fp = np.sum(~y_true & y_pred, axis=0)
    fn = np.sum(y_true & ~y_pred, axis=0)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    return precision, recall, f1


def per_column_auc(y_true: np.ndarray, y_prob: np.ndarray) -> np.ndarray:
    """ROC AUC of each column; NaN where a column holds only one class."""
    y_true = np.asarray(y_true) > 0
    out = np.full(y_true.shape[1], np.nan)
    for j in range(y_true.shape[1]):
        if 0 < y_true[:, j].sum() < len(y_true):
            out[j] = roc_auc_score(y_true[:, j], y_prob[:, j])
    return out


def best_thresholds(
    y_true: np.ndarray, y_prob: np.ndarray, grid: Sequence[float] | None = None
) -> np.ndarray:
    """Per-AU decision thresholds that maximise F1 (choose them on validation).

    Ties go to the threshold closest to 0.5; an AU with no positives keeps 0.5.
    """
    grid = np.asarray(grid if grid is not None else np.round(np.arange(0.05, 0.951, 0.05), 2))
    y_true = np.asarray(y_true) > 0
    out = np.full(y_true.shape[1], 0.5)
    order = np.argsort(np.abs(grid - 0.5), kind="stable")
    for j in range(y_true.shape[1]):
        if not y_true[:, j].any():
            continue
        scores = [precision_recall_f1(y_true[:, j:j + 1], y_prob[:, j:j + 1] >= t)[2][0]
                  for t in grid[order]]
        out[j] = grid[order][int(np.argmax(scores))]
    return out


def evaluate_predictions(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    au_names: Sequence[str],
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """All per-AU metrics of one split.

    Args:
        y_true: ``[n, k]`` 0/1 labels.
        y_prob: ``[n, k]`` predicted probabilities.
        au_names: the ``k`` AU names.
        thresholds: per-AU thresholds (default 0.5 for all).

    Returns:
        A JSON-ready dict: ``macro_f1``, ``per_au_f1``, ``per_au_precision``,
        ``per_au_recall``, ``per_au_auc``, ``macro_auc``, ``positive_rate``,
        ``baseline_macro_f1`` (always answering "present"),
        ``per_au_baseline_f1``, ``thresholds``, ``num_examples`` and
        ``aus_without_positives``. F1 is undefined (``None``) for an AU with
        no positive example in the set; macro averages leave such AUs out.

    Raises:
        ValueError: on mismatched shapes or an empty set.
    """
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    names = list(au_names)
    if y_true.shape != y_prob.shape or y_true.ndim != 2 or y_true.shape[1] != len(names):
        raise ValueError(
            f"labels {y_true.shape}, predictions {y_prob.shape} and {len(names)} AU "
            "names do not match"
        )
    if len(y_true) == 0:
        raise ValueError("cannot evaluate an empty split")
    th = np.full(len(names), 0.5) if thresholds is None else np.asarray(thresholds, float)
    precision, recall, f1 = precision_recall_f1(y_true, y_prob >= th)
    _, _, base_f1 = precision_recall_f1(y_true, np.ones_like(y_true))
    auc = per_column_auc(y_true, y_prob)
    undefined = (y_true > 0).sum(axis=0) == 0
    f1 = np.where(undefined, np.nan, f1)
    base_f1 = np.where(undefined, np.nan, base_f1)
    scored = ~undefined

    def by_au(values: np.ndarray) -> dict[str, float | None]:
        return {a: _clean(v) for a, v in zip(names, values, strict=True)}

    return {
        "num_examples": int(len(y_true)),
        "macro_f1": _clean(f1[scored].mean()) if scored.any() else None,
        "baseline_macro_f1": _clean(base_f1[scored].mean()) if scored.any() else None,
        "aus_without_positives": [a for a, u in zip(names, undefined, strict=True) if u],
        "macro_auc": _clean(np.nanmean(auc)) if np.isfinite(auc).any() else None,
        "per_au_f1": by_au(f1),
        "per_au_precision": by_au(precision),
        "per_au_recall": by_au(recall),
        "per_au_auc": by_au(auc),
        "per_au_baseline_f1": by_au(base_f1),
        "positive_rate": by_au((y_true > 0).mean(axis=0)),
        "thresholds": by_au(th),
    }


def format_table(metrics: dict[str, Any], title: str = "") -> str:
    """Render per-AU F1 / AUC / positive rate as an aligned text table."""
    lines = [title] if title else []
    lines.append(f"{'AU':<6}{'name':<22}{'F1':>7}{'AUC':>7}{'base F1':>9}{'pos rate':>10}")
    for au, f1 in metrics["per_au_f1"].items():
        lines.append(
            f"{au:<6}{FACS_NAMES[au]:<22}{fmt(f1):>7}{fmt(metrics['per_au_auc'][au]):>7}"
            f"{fmt(metrics['per_au_baseline_f1'][au]):>9}{metrics['positive_rate'][au]:>10.3f}"
        )
    lines.append(
        f"{'macro':<28}{fmt(metrics['macro_f1']):>7}{fmt(metrics.get('macro_auc')):>7}"
        f"{fmt(metrics['baseline_macro_f1']):>9}"
    )
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    """Three decimals, or ``n/a`` for an undefined value."""
    return "n/a" if value is None else f"{value:.3f}"


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as indented JSON (NaN is written as null)."""
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")


def _clean(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6)
