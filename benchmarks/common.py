"""What every benchmark shares: machine details, flags, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """Hardware and library details recorded with the figures."""
    import keras
    import tensorflow as tf

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu,
        "memory_gib": round(memory, 1) if memory else None,
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "gpus": [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                 for g in gpus],  # fmt: skip
    }


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """``--quick``, ``--gpu``, ``--repeats``, ``--out``, ``--tfds-dir``."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    size.add_argument("--gpu", action="store_true",
                      help="sizes for one big GPU (the paper's network, large batches)")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per figure")
    parser.add_argument("--out", default=str(RESULTS), help="where JSON and markdown go")
    parser.add_argument("--tfds-dir", default="data/tfds",
                        help="where the benchmark's synthetic faces are built (reused)")


def sizes_for(args: argparse.Namespace, cpu: Any, quick: Any, gpu: Any) -> Any:
    """The sizes the flags ask for (a dataclass), with ``--repeats`` applied."""
    import dataclasses

    sizes = quick if args.quick else gpu if args.gpu else cpu
    if args.gpu:
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            raise SystemExit("--gpu: TensorFlow sees no GPU on this machine")
    return dataclasses.replace(sizes, repeats=args.repeats) if args.repeats else sizes


def write_results(out: Path, name: str, result: dict[str, Any], table: str) -> None:
    """Write ``OUT/name.json`` (with machine details) and ``OUT/name.md``; print the table."""
    out.mkdir(parents=True, exist_ok=True)
    result = {"machine": machine(), **result}
    (out / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    m = result["machine"]
    header = (f"# {name}\n\n{m['cpu_affinity']} CPU(s) {m['cpu_model']}, "
              f"GPUs: {', '.join(m['gpus']) or 'none'}; TensorFlow {m['tensorflow']}, "
              f"Keras {m['keras']}; load average {m['load_average_1m']:.2f}\n\n")  # fmt: skip
    (out / f"{name}.md").write_text(header + table)
    print(header + table)
    print(f"wrote {out / (name + '.json')} and {out / (name + '.md')}")
