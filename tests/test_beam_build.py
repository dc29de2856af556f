"""The real-data builders give the same dataset in-process and on Apache Beam.

Each builder's dummy_data is copied and spoiled so that rows are skipped both
before generation (image missing, already in the dummy data) and inside it,
on the Beam workers (undecodable image, box outside the image). The build then
runs once in-process and once on Beam's DirectRunner engine with two
worker processes; the examples, split sizes and ``metadata["skipped"]`` must match.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

beam = pytest.importorskip("apache_beam", reason="apache_beam is not installed: no Beam build")

from tfds_builders import beam_support  # noqa: E402
from tfds_builders.disfa import disfa_dataset_builder as disfa  # noqa: E402
from tfds_builders.ms_celeb_au import ms_celeb_au_dataset_builder as ms_celeb  # noqa: E402

# The DirectRunner's multi-process engine, named directly: apache-beam 2.77's
# DirectRunner first tries to fetch and run the Prism runner (network, and then
# the direct_* options would not apply), and falls back to this one offline.
BEAM_FLAGS = ["--runner=FnApiRunner", "--direct_num_workers=2",
              "--direct_running_mode=multi_processing"]  # fmt: skip

# builder module, undecodable image, (CSV, row image, box it gets outside the image)
CASES = {
    "ms_celeb_au": (ms_celeb, "m.0dq9p6_1-FaceId-0.jpg",
                    ("train_label.csv", "m.06lj1m_0-FaceId-0.jpg", '"(500, 500, 600, 600)"')),
    "disfa": (disfa, "RightVideoSN001_00000002.jpg",
              ("fold1_test.csv", "RightVideoSN002_00000000.jpg", '"(500,500,600,600)"')),
}  # fmt: skip


def _spoiled_manual_dir(module, broken: str, outside: tuple[str, str, str], dest: Path) -> Path:
    """A copy of the builder's dummy_data with one undecodable image and one box off-image."""
    shutil.copytree(module.Builder.code_path.parent / "dummy_data", dest)
    (dest / broken).write_bytes(b"this is not a JPEG")
    csv, image, box = outside
    lines = (dest / csv).read_text().splitlines()
    (i,) = [i for i, line in enumerate(lines) if line.startswith(f"{image},")]
    labels = lines[i].split(")", 1)[1].lstrip('"')  # ",0,1,..." after the box
    lines[i] = f"{image},{box}{labels}"
    (dest / csv).write_text("\n".join(lines) + "\n")
    return dest


def _build(module, manual: Path, data_dir: Path, beam_options=None):
    builder = module.Builder(data_dir=str(data_dir), config="64")
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
        manual_dir=str(manual), beam_options=beam_options))  # fmt: skip
    return module.Builder(data_dir=str(data_dir), config="64")  # reloaded from disk


def _not_in_this_process(*args):
    raise AssertionError("crop_example ran in the test process, not on a Beam worker")


def _examples(builder, split: str) -> list[dict]:
    ds = builder.as_dataset(split=split, shuffle_files=False)
    return sorted(tfds.as_numpy(ds), key=lambda ex: ex["file_name"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_beam_build_matches_in_process_build(tmp_path, name):
    module, broken, outside = CASES[name]
    manual = _spoiled_manual_dir(module, broken, outside, tmp_path / "manual")
    local = _build(module, manual, tmp_path / "local")
    options = beam.options.pipeline_options.PipelineOptions(BEAM_FLAGS)
    with pytest.MonkeyPatch.context() as patch:  # rows must be cropped in the worker processes
        patch.setattr(beam_support, "crop_example", _not_in_this_process)
        on_beam = _build(module, manual, tmp_path / "beam", beam_options=options)

    skipped = local.info.metadata["skipped"]
    reasons = {s["image"]: s["reason"] for s in skipped}
    assert reasons[broken].startswith("cannot decode image")
    assert reasons[outside[1]].startswith("face box (500, 500, 600, 600) lies outside")
    assert "image file not found" in reasons.values()
    assert on_beam.info.metadata["skipped"] == skipped
    assert on_beam.info.metadata["skipped_count"] == local.info.metadata["skipped_count"]
    assert len(skipped) == local.info.metadata["skipped_count"]
    leftovers = [p.name for p in (tmp_path / "beam").rglob("*") if p.name.endswith(
        (".rows.jsonl", ".skipped.json"))]  # fmt: skip
    assert not leftovers, "the Beam path's rows and skip files must be deleted"

    splits = {s: info.num_examples for s, info in local.info.splits.items()}
    assert splits == {s: info.num_examples for s, info in on_beam.info.splits.items()}
    for split in splits:
        want, got = _examples(local, split), _examples(on_beam, split)
        assert len(want) == len(got) == splits[split]
        for a, b in zip(want, got, strict=True):
            assert a.keys() == b.keys()
            for feature in a:
                np.testing.assert_array_equal(a[feature], b[feature], err_msg=feature)
