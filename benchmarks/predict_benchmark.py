"""Benchmark AU prediction: end-to-end video frames/s and per-face model latency.

    python benchmarks/predict_benchmark.py [--quick] [--out benchmarks/results]

1. ``predict`` end to end (decode, res10 SSD face detection, tracking, crop,
   resize, AU model, row building) on a generated 640×480 single-face MJPG
   video, for several ``detect_every`` values and both architectures (random
   weights: speed does not depend on training).
2. AU-model latency per face for the ``compact`` and ``paper`` architectures,
   batch 1 and 64, float32 and bfloat16 (``mixed_bfloat16`` policy, sigmoid
   head kept in float32), through a ``tf.function`` as ``predict`` runs it.

Every figure is the median of several repeats after a warm-up. Results go to
``OUT/predict_benchmark.json`` and ``OUT/predict_benchmark.md`` with the
machine's details (CPU count and model, load average, library versions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from common import machine

from keras_au.synth.generate import pretrain_example


def make_video(path: Path, frames: int, fps: float = 25.0, side: int = 200) -> Path:
    """A 640×480 MJPG video with one synthetic face drifting over a blurred background."""
    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(50, 210, (480, 640), dtype=np.uint8), (0, 0), 12)
    face = pretrain_example(0, 7, side)["image"][:, :, 0]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for t in range(frames):
        frame = bg.copy()
        x = int(200 + 60 * np.sin(t / 25.0))
        y = int(120 + 30 * np.cos(t / 30.0))
        frame[y:y + side, x:x + side] = face
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def model_file(arch: str, folder: Path, dtype_policy: str = "float32") -> Path:
    """Save an untrained ``arch`` AUNet (18 AUs) as ``.keras``."""
    import keras

    from keras_au.model import build_aunet

    keras.utils.set_random_seed(0)
    path = folder / f"{arch}.keras"
    build_aunet(arch).save(path)
    return path


def bench_end_to_end(arch_files: dict[str, Path], video: Path, frames: int,
                     settings: list[tuple[str, int]], repeats: int) -> list[dict]:  # fmt: skip
    """Frames/s of ``Detector.iter_rows`` over the whole video."""
    from keras_au.detector import Detector

    out = []
    for arch, every in settings:
        det = Detector(arch_files[arch], "ssd", detect_every=every, batch_size=32)
        list(det.iter_rows([video], max_frames=min(frames, 10)))  # warm-up (traces the model)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            rows = sum(1 for _ in det.iter_rows([video]))
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        out.append({"architecture": arch, "detect_every": every, "frames": frames, "rows": rows,
                    "seconds_median": med, "frames_per_s": frames / med,
                    "repeats": repeats})  # fmt: skip
        print(f"end-to-end {arch} detect_every={every}: {frames / med:.1f} frames/s", flush=True)
    return out


def bench_ssd(video: Path, repeats: int) -> float:
    """Median seconds of one res10 SSD detection on a 640×480 frame."""
    from keras_au import faces

    cap = cv2.VideoCapture(str(video))
    ok, frame = cap.read()
    cap.release()
    det = faces.make_detector("ssd")
    det.detect(frame)
    times = []
    for _ in range(max(repeats, 5)):
        start = time.perf_counter()
        det.detect(frame)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_model(arch: str, batch: int, dtype: str, repeats: int) -> dict[str, Any]:
    """Median latency of one AU-model call on ``batch`` faces."""
    import keras
    import tensorflow as tf

    from keras_au.model import build_aunet

    keras.mixed_precision.set_dtype_policy("mixed_bfloat16" if dtype == "bfloat16" else "float32")
    try:
        keras.utils.set_random_seed(0)
        model = build_aunet(arch)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    spec = tf.TensorSpec([None, 64, 64, 1], tf.float32)
    fn = tf.function(lambda x: model(x, training=False), input_signature=[spec])
    x = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, 64, 64, 1)), tf.float32)
    for _ in range(2):
        fn(x).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return {"architecture": arch, "batch": batch, "dtype": dtype, "call_ms": med * 1e3,
            "ms_per_face": med * 1e3 / batch, "faces_per_s": batch / med, "repeats": repeats}


def markdown(result: dict[str, Any]) -> str:
    """The results as markdown tables."""
    m = result["machine"]
    lines = [
        "# keras_au predict benchmark", "",
        f"{m['cpu_count']} CPUs ({m['cpu_model']}), load average {m['load_average_1m']:.2f} at "
        f"start; TensorFlow {m['tensorflow']}, Keras {m['keras']}, OpenCV {result['opencv']}, "
        f"GPUs: {m['gpus']}. Medians of repeats; {result['mode']} mode.", "",
        f"res10 SSD face detection on one 640×480 frame: {result['ssd_ms']:.1f} ms", "",
        "## End to end (640×480 single-face video, SSD, batch 32)", "",
        "| architecture | detect_every | frames | frames/s |", "|---|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {r['architecture']} | {r['detect_every']} | {r['frames']} | "
              f"{r['frames_per_s']:.1f} |" for r in result["end_to_end"]]  # fmt: skip
    lines += ["", "## AU model per face", "",
              "| architecture | dtype | batch | ms per call | ms per face | faces/s |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['architecture']} | {r['dtype']} | {r['batch']} | {r['call_ms']:.2f} | "
              f"{r['ms_per_face']:.3f} | {r['faces_per_s']:.0f} |" for r in result["model"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short video, few repeats")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"),
                        help="folder for predict_benchmark.json/.md (default: benchmarks/results)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    frames, repeats, model_repeats = (50, 2, 3) if args.quick else (150, 3, 7)
    result: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine(),
                              "opencv": cv2.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = make_video(folder / "bench.avi", frames)
        result["ssd_ms"] = bench_ssd(video, repeats * 5) * 1e3
        files = {arch: model_file(arch, folder) for arch in ("compact", "paper")}
        settings = [("compact", 1), ("compact", 5), ("compact", 10), ("paper", 5)]
        result["end_to_end"] = bench_end_to_end(files, video, frames, settings, repeats)
    result["model"] = []
    for arch in ("compact", "paper"):
        for dtype in ("float32", "bfloat16"):
            for batch in (1, 64):
                r = bench_model(arch, batch, dtype, model_repeats)
                print(f"model {arch} {dtype} batch {batch}: {r['ms_per_face']:.3f} ms/face",
                      flush=True)  # fmt: skip
                result["model"].append(r)
    result["machine"]["load_average_1m_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "predict_benchmark.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "predict_benchmark.md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {out / 'predict_benchmark.json'} and {out / 'predict_benchmark.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
