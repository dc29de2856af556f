"""ms_celeb_au: the paper's pre-training faces (MS-Celeb-1M crops, OpenFace 2.0 AU labels).

Manual download: the manual dir is the paper's ``pre_train_images/`` folder —
``train_label.csv`` and/or ``test_label.csv`` (no header; ``image,rectsize,
gender,`` + 18 AUs) with the images beside them. ``python -m keras_au.prepare
faces`` writes the same layout from your own photos.

Each example is the CSV's face box cropped from its image, converted to
grayscale, zero-padded to a square and resized to the config's
``image_size`` (default 96, enough room for the 64×64 augmentation).

Rows that cannot be used (image missing or undecodable, box outside the
image) are skipped, logged with a warning, and listed in the dataset's
``metadata.json`` (``info.metadata["skipped"]``: split, file, line, image,
reason; ``skipped_count``). Malformed CSV rows are errors naming file and line.

Generation runs in-process, or on Apache Beam when the download config sets
``beam_runner`` / ``beam_options`` (``tfds build … --beam_pipeline_options=…``);
both give the same examples and the same skip report (see
``tfds_builders.beam_support``).
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

try:
    from keras_au import aus, label_csv
except ImportError:  # `tfds build tfds_builders/ms_celeb_au` from a source checkout
    sys.path.insert(0, str(epath.Path(__file__).resolve().parents[2]))
    from keras_au import aus, label_csv

from tfds_builders.beam_support import RowExamplesMixin, table_rows  # noqa: E402
from tfds_builders.face_configs import RAW_FACES_NOTE, face_feature, face_image_configs  # noqa: E402

log = logging.getLogger(__name__)
SPLIT_FILES = {"train": "train_label.csv", "test": "test_label.csv"}
_AU_COLUMNS = list(aus.OPENFACE_AUS)


class Builder(RowExamplesMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for the paper's noisy-label pre-training faces."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {"1.0.0": "First release.", "2.0.0": RAW_FACES_NOTE}
    BUILDER_CONFIGS = face_image_configs("Faces")
    DEFAULT_CONFIG_NAME = "96"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Pass the paper's `pre_train_images/` folder as the manual dir
    (`tfds build tfds_builders/ms_celeb_au --manual_dir .../pre_train_images`):

      pre_train_images/
        train_label.csv    # no header: image,rectsize,gender,AU01,...,AU45 (18 AUs)
        test_label.csv     # same layout; either file may be absent, not both
        m.059w4s_84-FaceId-0.jpg   # the images, beside the CSVs
        ...

    Example row: m.059w4s_84-FaceId-0.jpg,"(0, 0, 300, 300)",0,1,0,1,1,0,...
    `python -m keras_au.prepare faces IN_DIR OUT_DIR --openface-csv ...` writes
    this layout from your own photos.
    """

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        features = tfds.features.FeaturesDict({
            "image": face_feature(size),
            "aus": tfds.features.Tensor(shape=(len(_AU_COLUMNS),), dtype=np.uint8,
                                        doc="OpenFace 2.0 presence 0/1, au_names order."),
            "gender": tfds.features.Scalar(dtype=np.int8,
                                           doc="0/1 as in the CSV; -1 unknown."),
            "file_name": tfds.features.Text(),
        })  # fmt: skip
        return self.dataset_info_from_configs(
            features=features,
            supervised_keys=("image", "aus"),
            homepage="https://arxiv.org/abs/1911.05946",
            metadata=tfds.core.MetadataDict(
                au_names=list(aus.OPENFACE_AUS),
                image_size=size,
                label_source="OpenFace 2.0 AU presence (AUxx_c), noisy",
                missing_files=[],
                skipped=[],
                skipped_count=0,
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual = epath.Path(dl_manager.manual_dir)
        present = {s: manual / f for s, f in SPLIT_FILES.items() if (manual / f).exists()}
        missing = [f for s, f in SPLIT_FILES.items() if s not in present]
        if not present:
            raise FileNotFoundError(
                f"no label CSV in {manual}: expected {' and/or '.join(SPLIT_FILES.values())}"
                " (the paper's pre_train_images layout, see MANUAL_DOWNLOAD_INSTRUCTIONS)"
            )
        self.info.metadata["missing_files"] = missing
        if missing:
            log.warning("ms_celeb_au: %s not found in %s; building %s only",
                        ", ".join(missing), manual, ", ".join(present))  # fmt: skip
        available = {p.name for p in manual.iterdir()}
        splits = {}
        for split, path in present.items():
            with path.open() as stream:
                table = label_csv.read_pretrain_labels(stream, name=str(path))
            table = label_csv.merge_labels([table], ["gender", *_AU_COLUMNS])
            table = self._drop_missing_images(table, available, split)
            rows = table_rows(table, split, _features)
            splits[split] = self._generate_examples(manual, rows, split)
        return splits


def _features(row) -> dict:
    """The features of a label row but ``image``, as JSON types (see ``beam_support.Row``)."""
    return {
        "aus": [int(getattr(row, au)) for au in _AU_COLUMNS],
        "gender": int(row.gender),
        "file_name": str(row.image),
    }
