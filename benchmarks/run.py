"""The benchmark suite as one command: training throughput, then predict.

    python benchmarks/run.py            # CPU sizes (~5 min on 2 cores)
    python benchmarks/run.py --gpu      # one big GPU (a few minutes)
    python benchmarks/run.py --quick    # seconds: checks that everything runs

Runs ``train_benchmark`` (input pipeline, per-image reference, training
through the pipeline vs the model alone in fp32 and bf16, FLOP/s against a
matmul) in this process and ``predict_benchmark`` in a fresh one, then
writes ``OUT/suite.json`` (every figure, every repeat, machine details) and
``OUT/suite.md`` (the tables). Every figure is a median of repeats measured
side by side in the same run; compare ratios, not absolute numbers, across
noisy machines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import add_common_flags, sizes_for, write_results  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; write ``suite.json`` and ``suite.md``."""
    import train_benchmark

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_flags(parser)
    parser.add_argument("--skip-predict", action="store_true", help="training figures only")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sizes = sizes_for(args, train_benchmark.CPU, train_benchmark.QUICK, train_benchmark.GPU)
    result = {"mode": "quick" if args.quick else "gpu" if args.gpu else "cpu",
              "train": train_benchmark.run(Path(args.tfds_dir), sizes)}  # fmt: skip
    table = train_benchmark.markdown(result["train"])
    if not args.skip_predict:
        with tempfile.TemporaryDirectory() as tmp:
            flags = ["--quick"] if args.quick else []
            subprocess.run([sys.executable, str(HERE / "predict_benchmark.py"), *flags,
                            "--out", tmp], check=True)  # fmt: skip
            result["predict"] = json.loads((Path(tmp) / "predict_benchmark.json").read_text())
            table += "\n" + (Path(tmp) / "predict_benchmark.md").read_text()
    write_results(Path(args.out), "suite", result, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
