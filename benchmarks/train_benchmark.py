"""Benchmark training throughput: input pipeline, per-image reference, model alone, FLOP/s.

    python benchmarks/train_benchmark.py            # CPU sizes, ~3 min on 2 cores
    python benchmarks/train_benchmark.py --gpu      # one big GPU, a few minutes
    python benchmarks/train_benchmark.py --quick    # seconds; checks that it runs

Measured side by side in one process, each figure the median of several
repeats after a warm-up:

1. **pipeline**: ``keras_au.data.make_dataset`` on TFRecords of 96×96 faces
   (the real builders' default size) → augmented, normalized 64×64 batches,
   images/s; with the in-memory cache and without it (reading the files
   every epoch).
2. **reference**: the same augmentation done the original way — per image,
   NumPy + ``scipy.ndimage.affine_transform`` (bilinear, reflected borders),
   one process, faces already decoded in memory.
3. **training**: ``model.fit`` images/s through the full pipeline and on one
   in-memory batch repeated (the model alone), alternating, per precision;
   the ratio (median over back-to-back pairs) says whether the pipeline
   starves the model. Steps 2…N of each ``fit`` are timed.
4. **FLOP/s**: the model's training FLOPs per image (3 × the forward
   multiply-adds × 2) × images/s, against a square matmul timed in the same
   run (the practical peak).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is."""

    faces: int = 4096
    pipeline_batches: tuple[int, ...] = (32, 256)
    pipeline_images: int = 60_000
    reference_images: int = 3000
    architecture: str = "compact"
    train_batch: int = 32
    train_steps: int = 150
    precisions: tuple[str, ...] = ("fp32", "bf16")
    matmul: int = 2048
    repeats: int = 5


CPU = Sizes()
QUICK = Sizes(faces=256, pipeline_batches=(32,), pipeline_images=2000, reference_images=200,
              train_steps=3, matmul=256, repeats=2)  # fmt: skip
GPU = Sizes(faces=16384, pipeline_batches=(256, 1024), pipeline_images=400_000,
            reference_images=3000, architecture="paper", train_batch=256, train_steps=100,
            matmul=8192, repeats=5)  # fmt: skip


def _median_rate(fn, images: int, repeats: int) -> tuple[float, list[float]]:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        rates.append(images / (time.perf_counter() - started))
    return statistics.median(rates), rates


def build_faces(tfds_dir: Path, faces: int) -> Any:
    """The synthetic pretrain set with 96×96 stored faces (built once, then reused)."""
    from keras_au import data

    return data.synthetic_builder("pretrain", tfds_dir, num_train=faces, num_validation=64,
                                  num_test=64, image_size=96)  # fmt: skip


def bench_pipeline(builder: Any, sizes: Sizes) -> list[dict[str, Any]]:
    """Images/s of the training pipeline alone, per batch size, cached or not."""
    from keras_au import data

    results = []
    for batch in sizes.pipeline_batches:
        for cache in (True, False):
            iterator = iter(data.make_dataset(builder, "train", batch, training=True, cache=cache))
            steps = max(1, sizes.pipeline_images // batch)
            for _ in range(max(1, sizes.faces // batch) + 5):  # fill the cache, warm up
                next(iterator)

            def run(iterator=iterator, steps=steps) -> None:
                for _ in range(steps):
                    next(iterator)

            median, rates = _median_rate(run, steps * batch, sizes.repeats)
            results.append({"batch": batch, "cache": cache, "images_per_s": median,
                            "repeats": rates})  # fmt: skip
            print(f"pipeline batch {batch} cache {cache}: {median:,.0f} img/s", flush=True)
    return results


def reference_augment(faces: np.ndarray, rng: np.random.Generator, out: int = 64) -> np.ndarray:
    """The original per-image loop: draw parameters, build the matrix, warp, normalize."""
    from scipy import ndimage

    batch = np.empty((len(faces), out, out, 1), np.float32)
    size = faces.shape[1]
    c_in, c_out = (size - 1) / 2.0, (out - 1) / 2.0
    for i, face in enumerate(faces):
        shift = rng.uniform(-0.08, 0.08, 2) * out
        scale = rng.uniform(1.0, 1.05, 2)
        scale = np.where(rng.uniform(size=2) < 0.5, 1.0 / scale, scale)
        angle = rng.uniform(-math.radians(20), math.radians(20))
        skew = rng.uniform(-0.05, 0.05, 2)
        flip = -1.0 if rng.uniform() < 0.5 else 1.0
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        forward = rot @ np.array([[1, skew[0]], [skew[1], 1]]) @ np.diag([flip * scale[0], scale[1]])
        inverse = np.linalg.inv(forward)[::-1, ::-1] * (size / out)  # (row, col) order
        centre = np.array([c_out, c_out]) + shift[::-1]
        offset = np.array([c_in, c_in]) - inverse @ centre
        warped = ndimage.affine_transform(face[:, :, 0].astype(np.float32), inverse, offset,
                                          output_shape=(out, out), order=1, mode="reflect")  # fmt: skip
        batch[i, :, :, 0] = (warped - 127.5) / 127.5
    return batch


def bench_reference(builder: Any, sizes: Sizes) -> dict[str, Any]:
    """Images/s of :func:`reference_augment` on faces already in memory, one process."""
    from keras_au import data

    faces = np.stack([np.frombuffer(b, np.uint8) for b in
                      data.collect_labels(builder, "train", ("image",))["image"]])  # fmt: skip
    side = int(math.isqrt(faces.shape[1]))
    faces = faces.reshape(-1, side, side, 1)[: sizes.reference_images]
    rng = np.random.default_rng(0)
    reference_augment(faces[:10], rng)
    median, rates = _median_rate(lambda: reference_augment(faces, rng), len(faces), sizes.repeats)
    print(f"reference (per image, NumPy/SciPy, one process): {median:,.0f} img/s", flush=True)
    return {"images_per_s": median, "repeats": rates}


def model_flops(model: Any) -> float:
    """Forward FLOPs per image (2 × multiply-adds of every Conv2D and Dense layer)."""
    flops = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            flops += 2.0 * h * w * kh * kw * layer.input.shape[-1] * c_out
        elif isinstance(layer, keras.layers.Dense):
            flops += 2.0 * layer.input.shape[-1] * layer.units
    return flops


def bench_matmul(n: int, dtype: str, repeats: int) -> float:
    """GFLOP/s of an ``n×n`` matmul in ``dtype`` (the machine's practical peak)."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    matmul(a).numpy()
    reps = max(3, min(200, int(2e11 / (2 * n**3))))  # ~0.2 TFLOP a repeat (big n)

    def run() -> None:
        total = 0.0
        for _ in range(reps):
            total += tf.reduce_sum(matmul(a))  # a scalar comes back, not the matrix
        float(total)

    median, _ = _median_rate(run, 1, repeats)
    return median * reps * 2 * n**3 / 1e9


class StepTimer(keras.callbacks.Callback):
    """Times training steps 2…N of a ``fit``, waiting for each step's loss.

    Leaves out ``fit``'s own start and end, which on this machine now and
    then add a second or more to a short ``fit`` whatever the input.
    """

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.ends: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        float(logs["loss"])  # the step is done when its loss is
        self.ends.append(time.perf_counter())

    def images_per_s(self, batch_size: int) -> float:
        return (len(self.ends) - 1) * batch_size / (self.ends[-1] - self.ends[0])


def bench_training(builder: Any, sizes: Sizes, precision: str) -> dict[str, Any]:
    """``fit`` images/s: full pipeline vs one in-memory batch, alternating."""
    import tensorflow as tf

    from keras_au import aus, data, distribute, train
    from keras_au.model import build_aunet

    execution = distribute.setup("auto", precision, None, sizes.train_batch)
    batch = execution.global_batch
    with execution.strategy.scope():
        model = build_aunet(sizes.architecture, aus.OPENFACE_AUS)
        train.compile_model(model, 1e-4, jit=execution.jit)
    pipeline = data.make_dataset(builder, "train", batch, training=True)
    first = next(iter(pipeline))
    in_memory = tf.data.Dataset.from_tensors(first).repeat()
    arms = {"pipeline": pipeline, "in_memory": in_memory}
    for ds in arms.values():  # trace and warm up both
        model.fit(ds, epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)
    rates: dict[str, list[float]] = {k: [] for k in arms}
    timer = StepTimer()
    for _ in range(sizes.repeats):
        for name, ds in arms.items():
            model.fit(ds, epochs=1, steps_per_epoch=sizes.train_steps, verbose=0, shuffle=False,
                      callbacks=[timer])  # fmt: skip
            rates[name].append(timer.images_per_s(batch))
    medians = {k: statistics.median(v) for k, v in rates.items()}
    ratios = [p / m for p, m in zip(rates["pipeline"], rates["in_memory"], strict=True)]
    flops = 3 * model_flops(model)
    result = {
        "architecture": sizes.architecture, "precision": execution.precision,
        "jit": execution.jit, "replicas": execution.replicas, "global_batch": batch,
        "pipeline_images_per_s": medians["pipeline"],
        "in_memory_images_per_s": medians["in_memory"],
        "ratio": statistics.median(ratios),
        "ratio_of_medians": medians["pipeline"] / medians["in_memory"],
        "train_gflop_per_image": flops / 1e9,
        "achieved_gflop_per_s": flops * medians["in_memory"] / 1e9,
        "repeats": rates,
    }  # fmt: skip
    print(f"training {sizes.architecture} {execution.precision} batch {batch}: pipeline "
          f"{medians['pipeline']:,.0f} img/s, model alone {medians['in_memory']:,.0f} img/s, "
          f"ratio {result['ratio']:.3f}", flush=True)  # fmt: skip
    keras.backend.clear_session()
    distribute.set_precision("fp32")
    return result


def run(tfds_dir: Path, sizes: Sizes) -> dict[str, Any]:
    """All the measurements of this benchmark."""
    started = time.perf_counter()
    builder = build_faces(tfds_dir, sizes.faces)
    result: dict[str, Any] = {"sizes": sizes.__dict__ | {}, "pipeline": bench_pipeline(builder, sizes)}
    result["reference"] = bench_reference(builder, sizes)
    best = max(r["images_per_s"] for r in result["pipeline"])
    result["pipeline_vs_reference"] = best / result["reference"]["images_per_s"]
    result["training"] = [bench_training(builder, sizes, p) for p in sizes.precisions]
    result["matmul"] = {
        "n": sizes.matmul,
        "fp32_gflop_per_s": bench_matmul(sizes.matmul, "float32", sizes.repeats),
        "bf16_gflop_per_s": bench_matmul(sizes.matmul, "bfloat16", sizes.repeats),
    }  # fmt: skip
    result["seconds"] = time.perf_counter() - started
    return result


def markdown(result: dict[str, Any]) -> str:
    """The figures as markdown tables."""
    ref = result["reference"]["images_per_s"]
    lines = ["## Input pipeline (TFRecords of 96×96 faces → augmented 64×64 batches)", "",
             "| batch | cache | img/s | × per-image reference |", "|---|---|---|---|"]
    lines += [f"| {r['batch']} | {'memory' if r['cache'] else 'files'} | "
              f"{r['images_per_s']:,.0f} | {r['images_per_s'] / ref:.1f} |"
              for r in result["pipeline"]]  # fmt: skip
    lines += ["", f"Per-image NumPy/SciPy reference, one process: **{ref:,.0f} img/s**.", "",
              "## Training (`model.fit`)", "",
              "| model | precision | global batch | full pipeline img/s | model alone img/s | "
              "ratio (median of pairs) | GFLOP/s achieved | % of matmul |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    peak = result["matmul"]
    for r in result["training"]:
        top = peak["bf16_gflop_per_s" if r["precision"] != "fp32" else "fp32_gflop_per_s"]
        lines.append(
            f"| {r['architecture']} | {r['precision']} | {r['global_batch']} | "
            f"{r['pipeline_images_per_s']:,.0f} | {r['in_memory_images_per_s']:,.0f} | "
            f"{r['ratio']:.3f} | {r['achieved_gflop_per_s']:,.1f} | "
            f"{100 * r['achieved_gflop_per_s'] / top:.0f} % |")  # fmt: skip
    lines += ["", f"Matmul {peak['n']}²: {peak['fp32_gflop_per_s']:,.0f} GFLOP/s fp32, "
              f"{peak['bf16_gflop_per_s']:,.0f} GFLOP/s bf16. Training FLOPs per image: "
              f"{result['training'][0]['train_gflop_per_image']:.3f} GFLOP (3 × forward)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run on its own; ``benchmarks/run.py`` runs it with the others."""
    from common import add_common_flags, sizes_for, write_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_flags(parser)
    args = parser.parse_args(argv)
    result = run(Path(args.tfds_dir), sizes_for(args, CPU, QUICK, GPU))
    write_results(Path(args.out), "train_benchmark", result, markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
