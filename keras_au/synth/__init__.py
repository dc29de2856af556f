"""Procedural synthetic faces with known facial action units (AUs).

The renderer draws grayscale, face-detector-like crops of random people
(:class:`Identity`) showing any mix of the 18 OpenFace AUs at intensities
0-5, under random imaging conditions (:class:`Nuisance`). Each AU has its
own localized, bilateral shape and texture change (see
``docs/synthetic-faces.md``). Pure numpy + OpenCV, ~1-2 ms per 64x64 face.

Modules:
    face: :func:`render_face` (+ identity, nuisance, landmarks, draw, texture).
    labels: AU priors for stills and videos, the imitated noisy labeller.
    generate: :func:`pretrain_example` and :func:`disfa_subject_frames`, the
        deterministic per-example API the TFDS builder calls.
    preview: ``python -m keras_au.synth.preview`` contact sheets.
"""

from keras_au.synth.face import render_face
from keras_au.synth.generate import disfa_subject_frames, pretrain_example
from keras_au.synth.identity import Identity, sample_identity
from keras_au.synth.labels import (
    LABELLER_ERROR_RATES,
    noisy_presence,
    sample_intensities,
    sample_video_intensities,
)
from keras_au.synth.nuisance import Nuisance, jitter_nuisance, sample_nuisance

__all__ = [
    "LABELLER_ERROR_RATES",
    "Identity",
    "Nuisance",
    "disfa_subject_frames",
    "jitter_nuisance",
    "noisy_presence",
    "pretrain_example",
    "render_face",
    "sample_identity",
    "sample_intensities",
    "sample_nuisance",
    "sample_video_intensities",
]
