"""Fine-tuning: fold plans, unfreezing phases, thresholds from validation, errors."""

import json
from itertools import combinations

import keras
import numpy as np
import pytest

from keras_au import aus, finetune, folds, metrics, pretrain
from keras_au.config import finetune_preset, parse_phases
from keras_au.model import AUNet


@pytest.mark.parametrize("scheme", ["paper", "standard"])
@pytest.mark.parametrize("fold", [1, 2, 3])
def test_fold_plans_keep_subjects_apart(scheme, fold):
    plan = finetune.plan_fold(fold, scheme, list(folds.DISFA_SUBJECTS), 3)
    sets = [set(plan.train), set(plan.validation), set(plan.test)]
    for a, b in combinations(sets, 2):
        assert not a & b
    assert len(plan.test) == 9 and len(plan.validation) == 3 and len(plan.train) == 15
    assert set().union(*sets) == set(folds.DISFA_SUBJECTS)


def test_fold_plan_uses_only_available_subjects():
    plan = finetune.plan_fold(2, "paper", ["SN001", "SN002", "SN005", "SN006", "SN007"], 1)
    assert plan.test == ("SN001",) and len(plan.train) == 3
    with pytest.raises(ValueError, match="none of fold 3's test subjects"):
        finetune.plan_fold(3, "paper", ["SN001", "SN002"], 1)


def test_default_phases_unfreeze_top_down():
    model = AUNet(au_names=aus.DISFA_AUS, block_filters=((4,), (4,)), dense_units=(8, 8))
    assert finetune.phase_blocks(model, parse_phases(("conv+head:1:0.1",))[0]) == [
        "block1", "block2", "head"]
    trained = []
    for phase in parse_phases(finetune_preset("default").phases):
        model.set_trainable_blocks(finetune.phase_blocks(model, phase))
        trained.append({w.path.split("/")[0] for w in model.trainable_weights})
    assert trained[0] == {"au_logits"}
    assert trained[1] == {"fc1", "fc2", "au_logits"}
    assert trained[2] == {"block1_conv1", "block2_conv1", "fc1", "fc2", "au_logits"}
    rates = [p.learning_rate for p in parse_phases(finetune_preset("default").phases)]
    assert rates == sorted(rates, reverse=True)  # lower learning rates as more unfreezes


@pytest.mark.parametrize("spec", ["head", "head:0:0.1", "head:1:-1", ":1:0.1", "head:x:0.1"])
def test_bad_phase_specs(spec):
    with pytest.raises(ValueError, match="BLOCKS:EPOCHS:LR"):
        parse_phases((spec,))


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    where = tmp_path_factory.mktemp("pre")
    assert pretrain.main(["--preset", "smoke", "--tfds-dir", str(where / "tfds"),
                          "-r", str(where / "run")]) == 0
    return where


def finetune_args(where, *extra):
    return ["--preset", "smoke", "--tfds-dir", str(where / "tfds"),
            "--pretrained", str(where / "run" / "best.keras"), "-r", str(where / "ft"), *extra]


def test_fold_runs_and_thresholds_come_from_validation(pretrained):
    assert finetune.main(finetune_args(pretrained, "--fold", "2")) == 0
    run = pretrained / "ft" / "fold2"
    result = json.loads((run / "metrics.json").read_text())
    assert list(result["per_au_f1"]) == list(aus.DISFA_AUS)
    assert set(result["subjects"]["test"]) == set(folds.fold_subjects(2)[1])
    model = keras.models.load_model(run / "best.keras")
    assert model.au_names == list(aus.DISFA_AUS)
    assert len(model.trainable_weights) == len(model.weights)  # saved unfrozen
    # the saved thresholds are the F1-optimal ones on the validation subjects
    from keras_au import data, train

    builder = finetune.resolve_data(finetune_preset("smoke", tfds_dir=str(pretrained / "tfds")))
    val = data.make_dataset(builder, folds.split_spec(result["subjects"]["validation"]), 8,
                            training=False)
    expected = metrics.best_thresholds(*train.predict_with_labels(model, val))
    np.testing.assert_allclose(model.decision_thresholds(), expected)
    assert list(result["at_validation_thresholds"]["thresholds"].values()) == pytest.approx(expected)


def test_evaluate_compares_models_with_figures(pretrained, tmp_path):
    from keras_au import evaluate

    model = str(pretrained / "ft" / "fold2" / "best.keras")
    if not (pretrained / "ft" / "fold2" / "best.keras").exists():
        assert finetune.main(finetune_args(pretrained, "--fold", "2")) == 0
    out = tmp_path / "eval"
    assert evaluate.main(["--model", model, "--name", "a", "--model", model, "--name", "b",
                          "--fold", "2", "--synthetic-config", "disfa_tiny",
                          "--tfds-dir", str(pretrained / "tfds"), "-o", str(out)]) == 0
    result = json.loads((out / "metrics.json").read_text())
    assert set(result["models"]) == {"a", "b"}
    assert result["models"]["a"]["per_au_f1"] == result["models"]["b"]["per_au_f1"]
    assert result["models"]["a"]["num_examples"] == 9 * 3
    for figure in ("f1_bars.png", "pr_curves.png", "training_curves.png"):
        assert (out / figure).stat().st_size > 1000, figure


def test_all_folds_write_the_summary_and_scratch_runs(pretrained):
    assert finetune.main(finetune_args(pretrained, "--fold", "all", "--from-scratch",
                                       "--aus", "disfa8")) == 0
    summary = json.loads((pretrained / "ft" / "cv_summary.json").read_text())
    rows = summary["at_0.5"]["rows"]
    assert set(rows) == set(aus.DISFA_EVAL_AUS) | {"avg_all", "avg_disfa8"}
    assert set(rows["AU01"]) == {"fold1", "fold2", "fold3", "mean", "std"}
    assert "mean ± std" in (pretrained / "ft" / "cv_summary.md").read_text()
    from keras_au import cv_report

    table = cv_report.compare({"a": pretrained / "ft", "b": pretrained / "ft"})
    assert table.splitlines()[0] == "| AU | a | b |" and "| avg, fold 3 |" in table
    with pytest.raises(FileNotFoundError, match="cv_summary.json does not exist"):
        cv_report.compare({"x": pretrained / "nowhere"})


@pytest.mark.parametrize("extra, message", [
    (["--fold", "4"], "--fold must be one of 1, 2, 3, all"),
    (["--aus", "AU07"], "AU07 are not in this dataset"),
    (["--pretrained", "/nope.keras"], "does not exist"),
])
def test_bad_input(pretrained, capsys, extra, message):
    assert finetune.main(finetune_args(pretrained, *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_pretrained_that_is_not_a_model(pretrained, tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a zip")
    assert finetune.main(finetune_args(pretrained, "--pretrained", str(bogus))) == 2
    assert "is not a loadable Keras model file" in capsys.readouterr().err
    other = tmp_path / "other.keras"
    inp = keras.Input((4,))
    keras.Model(inp, keras.layers.Dense(1)(inp)).save(other)
    assert finetune.main(finetune_args(pretrained, "--pretrained", str(other))) == 2
    assert "not a keras_au AUNet" in capsys.readouterr().err


def test_data_dir_with_the_seed_layout_uses_disfa(tmp_path):
    """`-d DIR` reads DIR/fine_tune_images/ through the disfa builder."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "tfds_builders" / "disfa" / "dummy_data",
                    tmp_path / "data" / "fine_tune_images")
    argv = ["--preset", "smoke", "-d", str(tmp_path / "data"), "--fold", "2", "--from-scratch",
            "--validation-subjects", "1", "-r", str(tmp_path / "ft")]
    assert finetune.main(argv) == 0
    result = json.loads((tmp_path / "ft" / "fold2" / "metrics.json").read_text())
    assert result["dataset"].startswith("disfa/")
    assert result["subjects"]["test"] == ["SN001"]
    assert set(result["subjects"]["train"]) | set(result["subjects"]["validation"]) == {"SN002", "SN005"}
