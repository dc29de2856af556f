"""Distribution strategies: MirroredStrategy over two logical CPUs, two loopback workers.

Each run is a subprocess: logical devices and MultiWorkerMirroredStrategy
must be set up before TensorFlow starts, which the test process already did.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_au import data, distribute

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "tests" / "dist_job.py"


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """The synthetic pretrain set the jobs read, prepared once (workers never generate)."""
    path = tmp_path_factory.mktemp("tfds")
    data.synthetic_builder("pretrain", path, num_train=64, num_validation=16, num_test=16)
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", **extra)
    return env


def _job(strategy: str, tfds_dir: Path, out: Path, *args: str) -> dict[str, np.ndarray]:
    proc = subprocess.run([sys.executable, str(JOB), strategy, str(tfds_dir), str(out), *args],
                          env=_env(), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(np.load(out))


def _weights(result: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [result[k] for k in sorted((k for k in result if k.startswith("w")), key=lambda k: int(k[1:]))]


def test_mirrored_over_two_cpus_matches_one_device(tfds_dir, tmp_path):
    single = _job("one_device", tfds_dir, tmp_path / "single.npz", "--batch", "8")
    mirrored = _job("mirrored", tfds_dir, tmp_path / "mirrored.npz", "--cpus", "2", "--batch", "4")
    assert int(single["replicas"]) == 1 and int(mirrored["replicas"]) == 2
    # same global batch (8), same data, same seed: same training within float tolerance
    np.testing.assert_allclose(mirrored["loss"], single["loss"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["val_loss"], single["val_loss"], rtol=1e-4)
    for a, b in zip(_weights(mirrored), _weights(single), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5)
    assert not np.allclose(_weights(single)[0], _weights(_job(
        "one_device", tfds_dir, tmp_path / "other.npz", "--batch", "8", "--steps", "1",
        "--epochs", "1"))[0])  # the comparison can fail: training moves the weights


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _launch_workers(command: list[str], tmp_path: Path, n: int = 2) -> list[subprocess.CompletedProcess]:
    workers = [f"localhost:{p}" for p in _free_ports(n)]
    procs = []
    for i in range(n):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}}
        log = (tmp_path / f"worker{i}.log").open("w")
        procs.append((subprocess.Popen(command, env=_env(TF_CONFIG=json.dumps(tf_config)),
                                       stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO), log))
    results = []
    for proc, log in procs:
        try:
            proc.wait(timeout=300)
        finally:
            proc.kill()
            log.close()
        results.append(proc.returncode)
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(n)]
    for code, text in zip(results, logs, strict=True):
        assert code == 0, text[-4000:]
    return logs


def test_two_loopback_workers_train_to_identical_weights(tfds_dir, tmp_path):
    outs = [tmp_path / f"w{i}.npz" for i in range(2)]
    _launch_workers([sys.executable, str(JOB), "multi_worker", str(tfds_dir),
                     str(tmp_path / "w{index}.npz"), "--batch", "4"], tmp_path)
    a, b = (dict(np.load(p)) for p in outs)
    assert int(a["replicas"]) == 2
    for x, y in zip(_weights(a), _weights(b), strict=True):
        np.testing.assert_array_equal(x, y)  # one model, mirrored on both workers
    np.testing.assert_array_equal(a["loss"], b["loss"])  # loss reduced over both workers
    assert np.all(np.isfinite(a["loss"])) and a["loss"][-1] < a["loss"][0]


def test_multi_worker_pretrain_only_the_chief_writes(tfds_dir, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "keras_au.pretrain", "--preset", "smoke",
               "--strategy", "multi_worker", "--tfds-dir", str(tfds_dir), "-r", str(run_dir),
               "--synthetic-train", "64", "--synthetic-validation", "16", "--synthetic-test", "16",
               "--epochs", "2", "--batch-size", "4", "--verbose", "1"]
    logs = _launch_workers(command, tmp_path)
    assert "macro F1" in logs[0] and "macro F1" not in logs[1]  # only the chief reports
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "best.keras", "config.json", "history.csv", "logs", "metrics.json"]
    with (run_dir / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1]  # one writer: no duplicated rows
    assert {"loss", "macro_f1", "val_loss", "val_macro_f1", "val_auc"} <= set(rows[0])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["strategy"] == "multi_worker"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["num_examples"] == 16


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.choose_strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        distribute.choose_strategy("multi_worker")


def test_lr_scaling_rules():
    assert distribute.lr_factor("linear", 8) == 8
    assert distribute.lr_factor("sqrt", 4) == 2
    assert distribute.lr_factor("none", 8) == 1
    with pytest.raises(ValueError, match="lr-scaling"):
        distribute.lr_factor("cubic", 2)


@pytest.fixture
def restore_policy():
    yield
    distribute.set_precision("fp32")


@pytest.mark.parametrize(("precision", "policy", "compute"), [
    ("fp32", "float32", "float32"), ("bf16", "mixed_bfloat16", "bfloat16"),
    ("fp16", "mixed_float16", "float16")])
def test_precision_policy_keeps_a_float32_head(restore_policy, precision, policy, compute):
    import keras

    from keras_au import train
    from keras_au.model import build_aunet

    execution = distribute.setup("default", precision, None, 4, "linear")
    assert execution.precision == precision and not execution.jit  # no XLA on CPU by default
    model = build_aunet("compact", ["AU01", "AU12"])
    assert keras.mixed_precision.dtype_policy().name == policy
    assert model.get_layer("block1_conv1").compute_dtype == compute
    train.compile_model(model, 1e-3)
    out = model(np.zeros((2, 64, 64, 1), np.float32))
    assert out.dtype.name == "float32"  # sigmoid head in float32
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (precision == "fp16")  # dynamic loss scaling for fp16 only
    history = model.fit(np.zeros((8, 64, 64, 1), np.float32), np.ones((8, 2), np.float32),
                        batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_auto_precision_and_jit_on_cpu():
    assert distribute.resolve_precision("auto") == "fp32"  # no GPU here
    with pytest.raises(ValueError, match="precision"):
        distribute.resolve_precision("fp8")
    execution = distribute.setup("default", "fp32", True, 16, "linear")
    assert execution.jit and execution.global_batch == 16 and execution.is_chief
    assert "XLA on" in execution.describe()


def test_multi_worker_finetune_phases_only_the_chief_writes(tmp_path):
    run_dir = tmp_path / "ft"
    command = [sys.executable, "-m", "keras_au.finetune", "--preset", "smoke", "--fold", "2",
               "--from-scratch", "--strategy", "multi_worker", "--tfds-dir", str(tmp_path / "tfds"),
               "-r", str(run_dir), "--batch-size", "4", "--verbose", "1"]
    logs = _launch_workers(command, tmp_path)  # the chief builds the data, worker 1 waits
    assert "Fold 2 test subjects" in logs[0] and "Fold 2 test subjects" not in logs[1]
    fold = run_dir / "fold2"
    assert not (fold / "workers").exists() and (fold / "metrics.json").exists()
    with (fold / "history.csv").open() as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]


def test_mirrored_finetune_evaluates_every_frame_once(tmp_path):
    script = (
        "import sys, tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
        "from keras_au import finetune\n"
        "sys.exit(finetune.main(sys.argv[1:]))\n")
    proc = subprocess.run(
        [sys.executable, "-c", script, "--preset", "smoke", "--fold", "2", "--from-scratch",
         "--strategy", "mirrored", "--batch-size", "4", "--tfds-dir", str(tmp_path / "tfds"),
         "-r", str(tmp_path / "ft")],
        env=_env(TF_ENABLE_ONEDNN_OPTS="0"), capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "ft" / "fold2" / "metrics.json").read_text())
    assert metrics["num_examples"] == 27  # 9 test subjects × 3 frames, each once
