"""End to end: the smoke preset trains, checkpoints, scores and resumes."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keras_au import aus, pretrain
from keras_au.config import pretrain_preset

ROOT = Path(__file__).resolve().parents[1]


def smoke_args(tmp_path, *extra):
    return ["--preset", "smoke", "--tfds-dir", str(tmp_path / "tfds"),
            "-r", str(tmp_path / "run"), *extra]


def test_smoke_run_writes_the_run_directory(tmp_path, capsys):
    assert pretrain.main(smoke_args(tmp_path)) == 0
    run = tmp_path / "run"
    for name in ("config.json", "best.keras", "history.csv", "metrics.json"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert list(metrics["per_au_f1"]) == list(aus.OPENFACE_AUS)
    assert 0 <= metrics["macro_f1"] <= 1 and 0 < metrics["baseline_macro_f1"] < 1
    assert metrics["num_examples"] == 32
    assert "true_labels" in metrics
    assert json.loads((run / "config.json").read_text())["preset"] == "smoke"
    out = capsys.readouterr().out
    assert "lip corner puller" in out and "macro" in out
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and "val_loss" in rows[0] and "train_images_per_s" in rows[0]


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "imagenet"], "--dataset must be one of"),
    (["-d", "/nonexistent/place"], "does not exist"),
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
])
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, argv, message):
    assert pretrain.main(smoke_args(tmp_path, *argv)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_empty_data_dir_and_file_model_dir(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert pretrain.main(smoke_args(tmp_path, "-d", str(tmp_path / "empty"))) == 2
    assert "holds no pre_train_images" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert pretrain.main(["--preset", "smoke", "-r", str(tmp_path / "afile")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_nonsense_flag_value_exits_nonzero(capsys):
    with pytest.raises(SystemExit) as exc:
        pretrain.main(["--epochs", "many"])
    assert exc.value.code == 2
    assert "invalid int value: 'many'" in capsys.readouterr().err


def _history_epochs(path):
    if not path.exists():
        return []
    with open(path) as f:
        return [int(r["epoch"]) for r in csv.DictReader(f)]


def test_killed_run_resumes(tmp_path):
    """SIGKILL after the first epoch; the same command continues at epoch 2."""
    argv = [sys.executable, "-m", "keras_au.pretrain",
            *smoke_args(tmp_path, "--epochs", "3", "--steps-per-epoch", "3")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    history = tmp_path / "run" / "history.csv"
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _history_epochs(history) and time.monotonic() < deadline:
            assert proc.poll() is None, "run ended before it could be killed"
            time.sleep(0.05)
        assert _history_epochs(history) == [0], "first epoch never finished"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert (tmp_path / "run" / "backup").is_dir()
    assert not (tmp_path / "run" / "metrics.json").exists()

    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _history_epochs(history) == [0, 1, 2]  # epoch 0 was not trained again
    assert (tmp_path / "run" / "metrics.json").is_file()
    assert not (tmp_path / "run" / "backup").exists()


def test_resuming_with_other_flags_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "backup").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(pretrain_preset("smoke", batch_size=8).to_dict()))
    assert pretrain.main(smoke_args(tmp_path, "--tfds-dir", str(tmp_path / "t"))) == 2
    assert "different config" in capsys.readouterr().err


def test_data_dir_with_the_seed_layout_uses_ms_celeb_au(tmp_path):
    """`-d DIR` reads DIR/pre_train_images/ through the ms_celeb_au builder."""
    import shutil

    shutil.copytree(ROOT / "tfds_builders" / "ms_celeb_au" / "dummy_data",
                    tmp_path / "data" / "pre_train_images")
    argv = ["--preset", "smoke", "-d", str(tmp_path / "data"), "--val-split", "test",
            "-r", str(tmp_path / "run")]
    assert pretrain.main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["dataset"].startswith("ms_celeb_au/")
    assert metrics["num_examples"] == 3 and "true_labels" not in metrics
    assert (tmp_path / "data" / "tfds" / "ms_celeb_au").is_dir()
