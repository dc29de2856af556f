"""The two generators the TFDS builder calls: still examples and subject videos.

Both are deterministic functions of their arguments and independent of call
order, so examples can be produced in any order or in parallel.

Identities of the ``pretrain`` stills: indices come in groups of
``GROUP_SIZE`` (4). A group is a "repeated person" group with probability
``REPEAT_PROB`` (0.414); then all its images show one person (identity id =
the group's first index), otherwise every image shows a fresh person
(identity id = the index). So ~85% of identities appear once and the rest
four times, with a fresh pose, light and expression each time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from keras_au.aus import DISFA_AUS, DISFA_PRESENCE_THRESHOLD, OPENFACE_AUS
from keras_au.synth.face import render_face
from keras_au.synth.identity import sample_identity
from keras_au.synth.labels import noisy_presence, sample_intensities, sample_video_intensities
from keras_au.synth.nuisance import sample_nuisance

GROUP_SIZE = 4
#: solves 4(1-p) / (4(1-p) + p) = 0.85: ~85% of identities are seen once
REPEAT_PROB = 0.414
_DISFA_IDX = [OPENFACE_AUS.index(au) for au in DISFA_AUS]


def identity_of(seed: int, index: int) -> tuple[int, np.random.Generator]:
    """The identity id of example ``index`` and the generator to draw the person from."""
    group = index // GROUP_SIZE
    if np.random.default_rng([seed, group, 3]).random() < REPEAT_PROB:
        first = group * GROUP_SIZE
        return first, np.random.default_rng([seed, first, 2])
    return index, np.random.default_rng([seed, index, 1])


def pretrain_example(seed: int, index: int, size: int = 64) -> dict:
    """One still face with noisy automatic labels, like the paper's web faces.

    Args:
        seed: dataset seed.
        index: example index (any non-negative int).
        size: image side in pixels.

    Returns:
        ``{"image": uint8 (size, size, 1), "aus": uint8 (18,) noisy presence,
        "aus_true": uint8 (18,), "intensity": uint8 (18,) rounded 0-5,
        "gender": int 0/1, "identity": int}``, AUs in ``OPENFACE_AUS`` order.

    Raises:
        ValueError: for a negative seed or index.
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got seed={seed}, index={index}")
    identity_id, id_rng = identity_of(seed, index)
    person = sample_identity(id_rng)
    rng = np.random.default_rng([seed, index])
    intensity = sample_intensities(rng, 1)[0]
    nuisance = sample_nuisance(rng)
    true = (intensity >= DISFA_PRESENCE_THRESHOLD).astype(np.uint8)
    noisy = noisy_presence(true, rng, intensity)
    image = render_face(person, intensity, nuisance, size)
    return {
        "image": image[:, :, None],
        "aus": noisy,
        "aus_true": true,
        "intensity": np.rint(intensity).astype(np.uint8),
        "gender": person.gender,
        "identity": identity_id,
    }


def _smooth_track(rng: np.random.Generator, n: int, period: float) -> np.ndarray:
    """A smooth random track (about unit variance) varying over ``period`` frames."""
    k = 4
    freqs = rng.uniform(0.5, 2.0, k) / period
    phases = rng.uniform(0, 2 * math.pi, k)
    amps = rng.normal(0, 1, k) / math.sqrt(k / 2)
    t = np.arange(n)[:, None]
    return (amps * np.sin(2 * math.pi * freqs * t + phases)).sum(1)


def subject_number(subject: str) -> int:
    """``"SN001"`` -> 1.

    Raises:
        ValueError: if ``subject`` is not ``SN`` followed by digits.
    """
    if not (subject[:2].upper() == "SN" and subject[2:].isdigit()):
        raise ValueError(f"subject must look like 'SN001', got {subject!r}")
    return int(subject[2:])


def disfa_subject_frames(
    seed: int, subject: str, n_frames: int, size: int = 64, *, frames: Iterable[int] | None = None
) -> Iterator[dict]:
    """The frames of one DISFA-like subject video, rendered lazily.

    One person per subject, a fixed camera setup (square crops, no padding)
    with slow smooth head motion and light drift, and the 18-AU tracks of
    :func:`~keras_au.synth.labels.sample_video_intensities` (all precomputed,
    so any frame renders independently of the others).

    Args:
        seed: dataset seed.
        subject: subject name such as ``"SN001"``.
        n_frames: number of frames.
        size: image side in pixels.
        frames: optional 0-based frame numbers to render (in the order given);
            the video is the same, the others are just skipped.

    Yields:
        ``{"image": uint8 (size, size, 1), "frame": int (0-based),
        "intensity": uint8 (12,), "aus": uint8 (12,)}`` in ``DISFA_AUS`` order;
        ``intensity`` is the integer level the smooth track has reached
        (floor, like a FACS coder's A-E), ``aus`` = intensity >=
        ``DISFA_PRESENCE_THRESHOLD``.

    Raises:
        ValueError: for a malformed subject name or a negative frame count.
    """
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    rng = np.random.default_rng([seed, subject_number(subject)])
    person = sample_identity(rng)
    base = sample_nuisance(rng)
    base = replace(base, pad=0.0, yaw=base.yaw * 0.5, rotation=base.rotation * 0.5)
    tracks = sample_video_intensities(rng, n_frames)
    motion = np.stack([_smooth_track(rng, n_frames, p) for p in (150, 200, 250, 120, 140, 300)], 1)
    noise_seed = int(rng.integers(2**31))
    levels = np.floor(tracks[:, _DISFA_IDX]).astype(np.uint8)  # level reached
    wanted = range(n_frames) if frames is None else [int(f) for f in frames]
    for f in wanted:
        if not 0 <= f < n_frames:
            raise ValueError(f"frame {f} is outside 0..{n_frames - 1}")
        yaw, pitch, rot, dx, dy, light = motion[f]
        nz = replace(
            base,
            yaw=base.yaw + 5 * yaw, pitch=base.pitch + 3 * pitch,
            rotation=base.rotation + 2 * rot, shift_x=base.shift_x + 0.01 * dx,
            shift_y=base.shift_y + 0.01 * dy,
            light_strength=float(np.clip(base.light_strength + 0.03 * light, 0, 0.6)),
            noise_seed=(noise_seed + f) % 2**31,
        )  # fmt: skip
        image = render_face(person, tracks[f], nz, size)
        yield {
            "image": image[:, :, None],
            "frame": f,
            "intensity": levels[f],
            "aus": (levels[f] >= DISFA_PRESENCE_THRESHOLD).astype(np.uint8),
        }


__all__ = ["disfa_subject_frames", "pretrain_example"]
