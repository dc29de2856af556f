"""disfa: DISFA video frames with 12 AU labels, one split per subject (manual download).

Manual download: the manual dir is the paper's ``fine_tune_images/`` folder —
any of ``fold{1,2,3}_{train,test}.csv`` (no header; ``image,rectsize,`` + 12
AUs, values 0/1 or intensities 0-5) with the frames beside them, named
``{Left|Right}VideoSNxxx_{frame:08d}.jpg`` (0-based frames). ``python -m
keras_au.prepare disfa`` writes this layout from the raw DISFA release.

One split per subject, named exactly as the subject (``SN001`` …), so any
fold's train / validation / test is composed at read time:
``builder.as_dataset(split="SN002+SN005+...")`` (see ``keras_au.folds``). A frame
listed in several CSVs (each fold's train and test CSVs cover all subjects) is
stored once; conflicting labels for the same frame are an error naming both
files and lines.

``info.metadata``: ``au_names``; ``subjects`` (the splits built); ``folds`` —
``{"fold1": {"train": [...], "test": [...]}, ...}`` as found in the CSVs
present; ``missing_files`` (absent fold CSVs); ``label_values``
(``presence``/``intensity``/``mixed``: each CSV holds intensities when any of
its values exceeds 1, else 0/1 presence); ``skipped`` / ``skipped_count`` — every
CSV row left out (image missing or undecodable), with file, line and reason.

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
except ImportError:  # `tfds build tfds_builders/disfa` from a source checkout
    sys.path.insert(0, str(epath.Path(__file__).resolve().parents[2]))
    from keras_au import aus, label_csv

from tfds_builders.beam_support import RowExamplesMixin, table_rows  # noqa: E402
from tfds_builders.face_configs import RAW_FACES_NOTE, face_feature, face_image_configs  # noqa: E402

log = logging.getLogger(__name__)
FOLD_FILES = {(f"fold{k}", part): f"fold{k}_{part}.csv" for k in (1, 2, 3)
              for part in ("train", "test")}  # fmt: skip
_AU_COLUMNS = list(aus.DISFA_AUS)
_INTENSITY_COLUMNS = [label_csv.intensity_column(au) for au in aus.DISFA_AUS]
CAMERAS = ["left", "right"]


class Builder(RowExamplesMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for DISFA frames in the paper's fine_tune_images layout."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {"1.0.0": "First release.", "2.0.0": RAW_FACES_NOTE}
    BUILDER_CONFIGS = face_image_configs("Frames")
    DEFAULT_CONFIG_NAME = "96"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    DISFA is licensed: request it from its authors. Then either pass the
    paper's `fine_tune_images/` folder as the manual dir, or make one from the
    raw release with `python -m keras_au.prepare disfa RAW_DIR OUT_DIR`:

      fine_tune_images/
        fold1_train.csv fold1_test.csv     # any of fold{1,2,3}_{train,test}.csv;
        fold2_train.csv fold2_test.csv     # no header: image,rectsize,AU01,...,AU26
        fold3_train.csv fold3_test.csv     # (12 AUs, 0/1 or intensities 0-5)
        RightVideoSN005_00003268.jpg       # frames beside them, 0-based frame numbers
        ...

    Example row: RightVideoSN005_00003268.jpg,"(0,0,120,120)",0,0,0,0,0,0,0,0,0,0,0,0
    """

    def _info(self) -> tfds.core.DatasetInfo:
        size = self.builder_config.image_size
        n = len(_AU_COLUMNS)
        features = tfds.features.FeaturesDict({
            "image": face_feature(size),
            "aus": tfds.features.Tensor(shape=(n,), dtype=np.uint8,
                                        doc="Presence 0/1 (intensity >= 2), au_names order."),
            "intensity": tfds.features.Tensor(shape=(n,), dtype=np.int8,
                                              doc="Intensity 0-5; -1 where the CSV has 0/1."),
            "subject": tfds.features.Text(),
            "camera": tfds.features.ClassLabel(names=CAMERAS),
            "frame": np.int32,
            "file_name": tfds.features.Text(),
        })  # fmt: skip
        return self.dataset_info_from_configs(
            features=features,
            supervised_keys=("image", "aus"),
            homepage="http://mohammadmahoor.com/disfa/",
            metadata=tfds.core.MetadataDict(
                au_names=list(aus.DISFA_AUS),
                image_size=size,
                presence_threshold=aus.DISFA_PRESENCE_THRESHOLD,
                subjects=[],
                folds={},
                missing_files=[],
                label_values="",
                skipped=[],
                skipped_count=0,
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual = epath.Path(dl_manager.manual_dir)
        present = {key: manual / name for key, name in FOLD_FILES.items()
                   if (manual / name).exists()}  # fmt: skip
        missing = [name for key, name in FOLD_FILES.items() if key not in present]
        if not present:
            raise FileNotFoundError(
                f"no DISFA fold CSV in {manual}: expected any of "
                f"{', '.join(FOLD_FILES.values())} (see MANUAL_DOWNLOAD_INSTRUCTIONS)"
            )
        if missing:
            log.warning("disfa: %s not found in %s", ", ".join(missing), manual)
        tables, fold_lists, kinds = [], {}, set()
        for (fold, part), path in present.items():
            with path.open() as stream:
                table = label_csv.read_disfa_labels(stream, name=str(path))
            if len(table):
                kinds.add("intensity" if table.attrs["has_intensity"] else "presence")
            fold_lists.setdefault(fold, {})[part] = sorted(table["subject"].unique().tolist())
            tables.append(table)
        table = label_csv.merge_labels(tables, _AU_COLUMNS + _INTENSITY_COLUMNS)
        available = {p.name for p in manual.iterdir()}
        table = self._drop_missing_images(table, available, lambda row: str(row.subject))
        subjects = sorted(table["subject"].unique().tolist())
        meta = self.info.metadata
        meta.update(subjects=subjects, folds=fold_lists, missing_files=missing,
                    label_values="mixed" if len(kinds) > 1 else "".join(kinds))  # fmt: skip
        return {
            subject: self._generate_examples(
                manual, table_rows(table[table["subject"] == subject], subject, _features), subject
            )
            for subject in subjects
        }


def _features(row) -> dict:
    """The features of a label row but ``image``, as JSON types (see ``beam_support.Row``)."""
    return {
        "aus": [int(getattr(row, c)) for c in _AU_COLUMNS],
        "intensity": [int(getattr(row, c)) for c in _INTENSITY_COLUMNS],
        "subject": str(row.subject),
        "camera": str(row.camera),
        "frame": int(row.frame),
        "file_name": str(row.image),
    }
