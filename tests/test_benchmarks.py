"""The benchmark suite runs end to end (tiny sizes; no speed is asserted)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import train_benchmark  # noqa: E402
from common import write_results  # noqa: E402

TINY = train_benchmark.Sizes(faces=64, pipeline_batches=(16,), pipeline_images=256,
                             reference_images=32, train_batch=8, train_steps=3,
                             precisions=("fp32",), matmul=64, repeats=1)


def test_train_benchmark_writes_every_figure(tmp_path):
    result = train_benchmark.run(tmp_path / "tfds", TINY)
    assert [(r["batch"], r["cache"]) for r in result["pipeline"]] == [(16, True), (16, False)]
    assert all(r["images_per_s"] > 0 for r in result["pipeline"])
    assert result["reference"]["images_per_s"] > 0 and result["pipeline_vs_reference"] > 0
    (training,) = result["training"]
    assert training["precision"] == "fp32" and training["global_batch"] == 8
    assert training["in_memory_images_per_s"] > 0 and training["ratio"] > 0
    assert result["matmul"]["fp32_gflop_per_s"] > 0
    write_results(tmp_path / "out", "suite", {"train": result}, train_benchmark.markdown(result))
    saved = json.loads((tmp_path / "out" / "suite.json").read_text())
    assert saved["machine"]["cpu_count"] >= 1 and "tensorflow" in saved["machine"]
    assert "| 16 | memory |" in (tmp_path / "out" / "suite.md").read_text()


def test_flop_count_of_the_paper_network():
    from keras_au.model import build_aunet

    forward = train_benchmark.model_flops(build_aunet("paper", ["AU01"] * 1))
    assert 1.7e9 < forward < 1.8e9  # ≈ 5.3 GFLOP a training image (3 × forward)


def test_reference_augmentation_keeps_an_unwarped_face_nearly_intact():
    rng = np.random.default_rng(0)
    face = np.tile(np.linspace(0, 255, 96, dtype=np.float32), (96, 1)).astype(np.uint8)
    out = train_benchmark.reference_augment(face[None, :, :, None], rng)
    assert out.shape == (1, 64, 64, 1) and out.dtype == np.float32
    assert -1 <= out.min() and out.max() <= 1
    # a horizontal ramp stays a ramp, possibly flipped: rows are near-monotonic
    diffs = np.diff(out[0, 32, 8:56, 0])
    assert (diffs > 0).mean() > 0.9 or (diffs < 0).mean() > 0.9
