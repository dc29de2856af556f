import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from keras_au import metrics


@pytest.fixture
def fixed():
    rng = np.random.default_rng(7)
    y = (rng.random((500, 4)) < [0.1, 0.3, 0.5, 0.0]).astype(np.uint8)
    p = np.clip(y * 0.35 + rng.random((500, 4)) * 0.7, 0, 1)
    return y, p


def test_matches_scikit_learn(fixed):
    y, p = fixed
    names = ["AU01", "AU02", "AU04", "AU05"]
    m = metrics.evaluate_predictions(y, p, names)
    pred = (p >= 0.5).astype(int)
    for j, au in enumerate(names[:3]):
        assert m["per_au_f1"][au] == pytest.approx(f1_score(y[:, j], pred[:, j], zero_division=0), abs=1e-6)
        assert m["per_au_precision"][au] == pytest.approx(
            precision_score(y[:, j], pred[:, j], zero_division=0), abs=1e-6)
        assert m["per_au_recall"][au] == pytest.approx(
            recall_score(y[:, j], pred[:, j], zero_division=0), abs=1e-6)
    for j, au in enumerate(names[:3]):
        assert m["per_au_auc"][au] == pytest.approx(roc_auc_score(y[:, j], p[:, j]), abs=1e-6)
    assert m["per_au_auc"]["AU05"] is None  # one class only
    # F1 is undefined without positives: reported as None and left out of the macro
    assert m["per_au_f1"]["AU05"] is None and m["aus_without_positives"] == ["AU05"]
    assert m["macro_f1"] == pytest.approx(
        f1_score(y[:, :3], pred[:, :3], average="macro", zero_division=0), abs=1e-6)
    base = f1_score(y[:, :3], np.ones_like(y[:, :3]), average="macro", zero_division=0)
    assert m["baseline_macro_f1"] == pytest.approx(base, abs=1e-6)
    assert m["positive_rate"]["AU04"] == pytest.approx(y[:, 2].mean())


def test_thresholds_change_decisions(fixed):
    y, p = fixed
    names = ["AU01", "AU02", "AU04", "AU05"]
    th = metrics.best_thresholds(y, p)
    assert th[3] == 0.5  # no positives: keeps the default
    tuned = metrics.evaluate_predictions(y, p, names, th)
    plain = metrics.evaluate_predictions(y, p, names)
    for au in names[:3]:
        assert tuned["per_au_f1"][au] >= plain["per_au_f1"][au] - 1e-9
    assert tuned["per_au_f1"]["AU05"] is None
    expected = f1_score(y[:, 0], p[:, 0] >= th[0], zero_division=0)
    assert tuned["per_au_f1"]["AU01"] == pytest.approx(expected, abs=1e-6)


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match="do not match"):
        metrics.evaluate_predictions(np.zeros((3, 2)), np.zeros((3, 3)), ["AU01", "AU02"])
    with pytest.raises(ValueError, match="empty"):
        metrics.evaluate_predictions(np.zeros((0, 1)), np.zeros((0, 1)), ["AU01"])


def test_table_mentions_every_au(fixed):
    y, p = fixed
    table = metrics.format_table(metrics.evaluate_predictions(y, p, ["AU01", "AU02", "AU04", "AU05"]))
    assert "inner brow raiser" in table and "macro" in table and "n/a" in table
