"""`tfds build tfds_builders/<name> --manual_dir …` works from the command line."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TFDS = Path(sys.executable).with_name("tfds")


@pytest.mark.parametrize("name, splits", [
    ("ms_celeb_au", {"train", "test"}),
    ("disfa", {"SN001", "SN002", "SN005"}),
])
def test_tfds_build_command_line(tmp_path, name, splits):
    argv = [str(TFDS), "build", f"tfds_builders/{name}", "--config", "64",
            "--manual_dir", f"tfds_builders/{name}/dummy_data", "--data_dir", str(tmp_path)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    prepared = tmp_path / name / "64" / "2.0.0"
    records = {p.name.split(".tfrecord")[0].removeprefix(f"{name}-") for p in prepared.glob("*.tfrecord*")}
    assert records == splits
    assert (prepared / "dataset_info.json").is_file()
