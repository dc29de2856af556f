"""Figures a researcher would rather look at than read (matplotlib, no display).

* :func:`f1_bars` — per-AU F1, one bar per model (pretrained vs scratch …);
* :func:`pr_curves` — precision–recall curve of every AU, one panel each;
* :func:`training_curves` — loss / macro F1 / AUC per epoch from ``history.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402


def f1_bars(results: Mapping[str, Mapping[str, Any]], path: str | Path, title: str = "") -> Path:
    """Bar chart of per-AU F1 for one or more models.

    Args:
        results: ``{model name: metrics}`` as returned by
            :func:`keras_au.metrics.evaluate_predictions`.
        path: the PNG to write.
        title: figure title.
    """
    names = list(results)
    aus = list(next(iter(results.values()))["per_au_f1"])
    width = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(aus) * max(1, len(names)) ** 0.5), 4))
    x = np.arange(len(aus))
    for i, name in enumerate(names):
        f1 = [results[name]["per_au_f1"][a] or 0.0 for a in aus]
        label = f"{name} (macro {results[name]['macro_f1']:.3f})"
        ax.bar(x + (i - (len(names) - 1) / 2) * width, f1, width, label=label)
    base = [next(iter(results.values()))["per_au_baseline_f1"][a] for a in aus]
    ax.scatter(x, base, marker="_", s=200, color="black", label="always present", zorder=3)
    ax.set_xticks(x, aus, rotation=45)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def pr_curves(
    y_true: np.ndarray,
    probs: Mapping[str, np.ndarray],
    au_names: Sequence[str],
    path: str | Path,
) -> Path:
    """Precision–recall curves, one panel per AU, one line per model."""
    cols = min(6, len(au_names))
    rows = math.ceil(len(au_names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.4 * rows), squeeze=False)
    for j, au in enumerate(au_names):
        ax = axes[j // cols][j % cols]
        positives = int(np.sum(y_true[:, j] > 0))
        for name, p in probs.items():
            if positives:
                precision, recall, _ = precision_recall_curve(y_true[:, j] > 0, p[:, j])
                ax.plot(recall, precision, label=name)
        rate = positives / max(1, len(y_true))
        ax.axhline(rate, color="grey", lw=0.8, ls="--")
        ax.set_title(f"{au} (pos {rate:.1%})", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
    for k in range(len(au_names), rows * cols):
        axes[k // cols][k % cols].axis("off")
    handles = {h.get_label(): h for ax in axes.flat for h in ax.get_lines()
               if not h.get_label().startswith("_")}
    if handles:
        fig.legend(list(handles.values()), list(handles), fontsize=7, loc="lower right")
    fig.supxlabel("recall")
    fig.supylabel("precision")
    return _save(fig, path)


def training_curves(histories: Mapping[str, str | Path], path: str | Path) -> Path:
    """Loss, macro F1 and AUC per epoch (train dashed, validation solid)."""
    metrics = ("loss", "macro_f1", "auc")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2))
    for name, history in histories.items():
        table = pd.read_csv(history)
        for ax, metric in zip(axes, metrics, strict=True):
            line = None
            if f"val_{metric}" in table:
                (line,) = ax.plot(table["epoch"] + 1, table[f"val_{metric}"], label=f"{name} val")
            if metric in table:
                ax.plot(table["epoch"] + 1, table[metric], ls="--",
                        color=line.get_color() if line else None, label=f"{name} train")
            ax.set_title(metric)
            ax.set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
