"""synthetic_au: procedurally rendered grayscale faces with known AUs.

Everything is generated on the fly by ``keras_au.synth`` (no download), and
deterministically: example ``i`` of a split depends only on the config's seed,
the split and ``i``.

Configs:

``pretrain``
    Still faces of thousands of identities with the 18 OpenFace AUs as noisy
    presence labels (``aus``) that imitate an automatic labeller, the true
    presence (``aus_true``) and intensities beside them, and gender. Splits
    ``train``, ``validation``, ``test``.
``disfa``
    27 subjects named as in DISFA, each a smooth "video" whose 12 DISFA AU
    intensities change over time; presence = intensity ≥ 2. One split per
    subject (``SN001`` …), so any fold's train / validation / test is composed
    at read time, e.g. ``"SN002+SN005"``.

``*_tiny`` configs hold a handful of examples for tests. Other sizes: build
a config with :func:`make_config`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from keras_au import aus
from keras_au.folds import DISFA_SUBJECTS, paper_folds
from tfds_builders.face_configs import RAW_FACES_NOTE, face_feature

KINDS = ("pretrain", "disfa")
PRETRAIN_SPLITS = ("train", "validation", "test")
#: Split offsets keep the three pretrain splits' identities apart.
_SPLIT_OFFSET = {"train": 0, "validation": 10_000_000, "test": 20_000_000}
#: Config fields that change the stored bytes.
SIZE_FIELDS = ("num_train", "num_validation", "num_test", "frames_per_subject",
               "frame_stride", "image_size", "seed")  # fmt: skip


@dataclasses.dataclass
class SyntheticAUConfig(tfds.core.BuilderConfig):
    """Sizes and seed of one synthetic dataset.

    Attributes:
        kind: ``"pretrain"`` or ``"disfa"``.
        num_train: pretrain train examples.
        num_validation: pretrain validation examples.
        num_test: pretrain test examples.
        frames_per_subject: disfa frames stored per subject.
        frame_stride: disfa stores every ``frame_stride``-th frame of a video
            ``frames_per_subject * frame_stride`` frames long, so a few hundred
            frames still span many AU events (real DISFA has 4,845 per video).
        image_size: side of the stored square face, pixels.
        seed: the seed everything is drawn from.
    """

    kind: str = "pretrain"
    num_train: int = 10000
    num_validation: int = 500
    num_test: int = 1000
    frames_per_subject: int = 300
    frame_stride: int = 4
    image_size: int = 64
    seed: int = 0


def make_config(kind: str, **sizes: int) -> SyntheticAUConfig:
    """Return a config of ``kind`` with the given sizes, named after them.

    A config equal to a predefined one gets its name (``pretrain``, ...), so
    the default sizes reuse the default prepared data.

    Raises:
        ValueError: for an unknown kind, field or non-positive size.
    """
    if kind not in KINDS:
        raise ValueError(f"synthetic kind must be one of {KINDS}; got {kind!r}")
    fields = SIZE_FIELDS
    unknown = set(sizes) - set(fields)
    if unknown:
        raise ValueError(f"unknown synthetic size fields {sorted(unknown)}; known {fields}")
    for key, value in sizes.items():
        minimum = 0 if key == "seed" else 1
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"synthetic {key} must be an integer >= {minimum}, got {value!r}")
    base = next(c for c in Builder.BUILDER_CONFIGS if c.name == kind)
    config = dataclasses.replace(base, **sizes)
    for known in Builder.BUILDER_CONFIGS:
        if known.kind == kind and all(getattr(known, f) == getattr(config, f) for f in fields):
            return known
    if kind == "pretrain":
        tag = f"t{config.num_train}-v{config.num_validation}-e{config.num_test}"
    else:
        tag = f"f{config.frames_per_subject}x{config.frame_stride}"
    name = f"{kind}-{tag}-s{config.image_size}-seed{config.seed}"
    return dataclasses.replace(config, name=name, description=f"{kind} with custom sizes")


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for the built-in synthetic AU faces."""

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "First release.",
        "1.1.0": "disfa: every 4th frame of longer videos (frame_stride).",
        "2.0.0": RAW_FACES_NOTE,
    }
    BUILDER_CONFIGS = [
        SyntheticAUConfig(name="pretrain", kind="pretrain",
                          description="Noisy-label pre-training faces (default sizes)."),
        SyntheticAUConfig(name="disfa", kind="disfa",
                          description="DISFA-like videos of 27 subjects (default sizes)."),
        SyntheticAUConfig(name="pretrain_tiny", kind="pretrain", num_train=8,
                          num_validation=4, num_test=4, description="For tests."),
        SyntheticAUConfig(name="disfa_tiny", kind="disfa", frames_per_subject=3,
                          description="For tests."),
    ]  # fmt: skip
    DEFAULT_CONFIG_NAME = "pretrain"

    def _info(self) -> tfds.core.DatasetInfo:
        cfg = self.builder_config
        image = face_feature(cfg.image_size)
        if cfg.kind == "pretrain":
            n = len(aus.OPENFACE_AUS)
            features = {
                "image": image,
                "aus": tfds.features.Tensor(shape=(n,), dtype=np.uint8,
                                            doc="Noisy labeller's presence, 0/1."),
                "aus_true": tfds.features.Tensor(shape=(n,), dtype=np.uint8,
                                                 doc="True presence (intensity >= 2)."),
                "intensity": tfds.features.Tensor(shape=(n,), dtype=np.uint8,
                                                  doc="True intensity 0-5."),
                "gender": tfds.features.ClassLabel(num_classes=2),
                "identity": np.int64,
                "file_name": tfds.features.Text(),
            }  # fmt: skip
            metadata = {"au_names": list(aus.OPENFACE_AUS)}
        else:
            n = len(aus.DISFA_AUS)
            features = {
                "image": image,
                "aus": tfds.features.Tensor(shape=(n,), dtype=np.uint8,
                                            doc="Presence: intensity >= 2."),
                "intensity": tfds.features.Tensor(shape=(n,), dtype=np.int8,
                                                  doc="Intensity 0-5."),
                "subject": tfds.features.Text(),
                "camera": tfds.features.ClassLabel(names=["left", "right"]),
                "frame": np.int32,
                "file_name": tfds.features.Text(),
            }  # fmt: skip
            metadata = {
                "au_names": list(aus.DISFA_AUS),
                "folds": {f"fold{k}": list(v) for k, v in paper_folds().items()},
            }
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(features),
            supervised_keys=("image", "aus"),
            homepage="https://arxiv.org/abs/1911.05946",
            metadata=tfds.core.MetadataDict(metadata),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        cfg = self.builder_config
        if cfg.kind == "pretrain":
            sizes = {"train": cfg.num_train, "validation": cfg.num_validation,
                     "test": cfg.num_test}  # fmt: skip
            return {split: self._generate_pretrain(split, n) for split, n in sizes.items()}
        return {subject: self._generate_disfa(subject) for subject in DISFA_SUBJECTS}

    def _generate_examples(self):  # noqa: D102 - splits use the two generators below
        raise NotImplementedError("synthetic_au generates per split")

    def _generate_pretrain(self, split: str, count: int):
        from keras_au.synth.generate import pretrain_example

        cfg = self.builder_config
        for i in range(count):
            ex = pretrain_example(cfg.seed, _SPLIT_OFFSET[split] + i, cfg.image_size)
            name = f"synthetic_{split}_{i:07d}.png"
            yield name, {
                "image": ex["image"],
                "aus": ex["aus"],
                "aus_true": ex["aus_true"],
                "intensity": ex["intensity"],
                "gender": int(ex["gender"]),
                "identity": int(ex["identity"]),
                "file_name": name,
            }

    def _generate_disfa(self, subject: str):
        from keras_au.synth.generate import disfa_subject_frames

        cfg = self.builder_config
        length = cfg.frames_per_subject * cfg.frame_stride
        frames = disfa_subject_frames(cfg.seed, subject, length, cfg.image_size,
                                      frames=range(0, length, cfg.frame_stride))
        for ex in frames:
            name = f"RightVideo{subject}_{int(ex['frame']):08d}.png"
            yield name, {
                "image": ex["image"],
                "aus": ex["aus"],
                "intensity": ex["intensity"].astype(np.int8),
                "subject": subject,
                "camera": "right",
                "frame": int(ex["frame"]),
                "file_name": name,
            }
