"""Rows per second of building each dataset here (median of repeats).

    python benchmarks/build_benchmark.py [--repeats 3] [--seed-data ../shared/seed_data]

Real-data builders run over the paper's real label files with generated
placeholder images (``keras_au.fixtures``): ``ms_celeb_au`` over
``test_label.csv`` (8,530 rows), ``disfa`` over ``fold1_test.csv`` (43,605
rows), both at config ``64`` and ``96``; the synthetic builder renders its
default ``pretrain`` and ``disfa`` configs. Writes
``benchmarks/results/build_benchmark.{json,md}``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import tensorflow_datasets as tfds
from common import write_results

from keras_au.fixtures import write_placeholder_images

ROOT = Path(__file__).resolve().parents[1]


def _time_build(builder_cls, config: str, manual: Path | None) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as where:
        builder = builder_cls(data_dir=where, config=config)
        dl = tfds.download.DownloadConfig(manual_dir=str(manual) if manual else None)
        start = time.perf_counter()
        builder.download_and_prepare(download_config=dl)
        seconds = time.perf_counter() - start
        rows = sum(s.num_examples for s in builder.info.splits.values())
    return seconds, rows


def main(argv: list[str] | None = None) -> int:
    """Run every case ``--repeats`` times; print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed-data", type=Path, default=ROOT.parent / "shared" / "seed_data")
    args = parser.parse_args(argv)
    from tfds_builders.disfa.disfa_dataset_builder import Builder as Disfa
    from tfds_builders.ms_celeb_au.ms_celeb_au_dataset_builder import Builder as MsCeleb
    from tfds_builders.synthetic_au.synthetic_au_dataset_builder import Builder as Synthetic

    results = []
    with tempfile.TemporaryDirectory() as fixtures:
        manual = {
            "ms_celeb_au": Path(fixtures) / "pre_train_images",
            "disfa": Path(fixtures) / "fine_tune_images",
        }
        write_placeholder_images(args.seed_data / "pre_train_images" / "test_label.csv",
                                 manual["ms_celeb_au"])
        write_placeholder_images(args.seed_data / "fine_tune_images" / "fold1_test.csv",
                                 manual["disfa"])
        cases = [("ms_celeb_au", MsCeleb, c, manual["ms_celeb_au"]) for c in ("64", "96")]
        cases += [("disfa", Disfa, c, manual["disfa"]) for c in ("64", "96")]
        cases += [("synthetic_au", Synthetic, c, None) for c in ("pretrain", "disfa")]
        for name, cls, config, where in cases:
            runs = [_time_build(cls, config, where) for _ in range(args.repeats)]
            rows = runs[0][1]
            seconds = statistics.median(s for s, _ in runs)
            results.append({"dataset": name, "config": config, "rows": rows,
                            "median_seconds": round(seconds, 2),
                            "rows_per_s": round(rows / seconds, 1)})
            print(results[-1], flush=True)
    lines = ["| dataset | config | rows | median s | rows/s |", "|---|---|---|---|---|"]
    lines += [f"| {r['dataset']} | {r['config']} | {r['rows']} | {r['median_seconds']} | "
              f"{r['rows_per_s']} |" for r in results]
    write_results(ROOT / "benchmarks" / "results", "build_benchmark",
                  {"tfds": tfds.__version__, "repeats": args.repeats, "results": results},
                  "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
