"""Per-person parameters of a synthetic face and their prior.

An :class:`Identity` holds only floats and ints, so it is hashable: the
renderer caches the per-person landmark shape and AU displacement basis on it.
Gender convention: ``0`` = female, ``1`` = male; it shifts the shape and
texture priors (wider face and jaw, thicker and lower brows, beards and short
hair for 1; fuller, darker lips, darker lash line and longer hair for 0) but
every trait overlaps between the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Identity:
    """Shape and texture of one synthetic person (face units: face width ~ 1).

    Attributes:
        gender: 0 (female) or 1 (male).
        face_width: x scale of the face outline.
        face_length: y scale of the face below the eyes.
        jaw_width: extra x scale of the lower jaw (square vs pointed).
        eye_spacing: extra lateral offset of each eye (units).
        eye_size: scale of both eyes.
        eye_tilt: outer eye corner raised (+) or lowered (-), units.
        eye_height: vertical offset of the eyes (units, + = lower).
        brow_height: extra gap between eye and brow (units, + = higher).
        brow_arch: how much the brow middle rises above its ends (units).
        brow_thickness: brow band thickness (units).
        brow_darkness: 0..1 contrast of the brows against the skin.
        nose_length: y scale of the nose.
        nose_width: x scale of the nostrils.
        mouth_width: x scale of the mouth.
        mouth_height: vertical offset of the mouth (units).
        upper_lip: thickness scale of the upper lip.
        lower_lip: thickness scale of the lower lip.
        lip_darkness: 0..1 how much darker than the skin the lips are.
        lash_darkness: 0..1 darkness of the upper lash line.
        skin: base skin gray level (0..255).
        iris: iris gray level (0..255).
        hair_line: y of the hairline at the midline (units, negative = up).
        hair_darkness: 0 (blond) .. 1 (black).
        hair_length: 0 (short) .. 1 (long hair framing the face).
        fringe: 0 for none, else the y of the fringe's lower edge.
        glasses: 0 for none, else frame darkness 0..1.
        glasses_size: scale of the glasses' rims.
        beard: 0 none, < 0.4 stubble, larger values a full beard.
        age: 0..1 depth of static wrinkles (nasolabial folds, forehead).
        warp: coefficients of a smooth random deformation of the template.
        marks: flattened (x, y, radius) triples of moles/freckles.
    """

    gender: int
    face_width: float
    face_length: float
    jaw_width: float
    eye_spacing: float
    eye_size: float
    eye_tilt: float
    eye_height: float
    brow_height: float
    brow_arch: float
    brow_thickness: float
    brow_darkness: float
    nose_length: float
    nose_width: float
    mouth_width: float
    mouth_height: float
    upper_lip: float
    lower_lip: float
    lip_darkness: float
    lash_darkness: float
    skin: float
    iris: float
    hair_line: float
    hair_darkness: float
    hair_length: float
    fringe: float
    glasses: float
    glasses_size: float
    beard: float
    age: float
    warp: tuple[float, ...]
    marks: tuple[float, ...]


def _tn(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float) -> float:
    """One normal draw clipped to [lo, hi], as a Python float."""
    return float(np.clip(rng.normal(mean, sd), lo, hi))


def sample_identity(rng: np.random.Generator, gender: int | None = None) -> Identity:
    """Draw one random person.

    Args:
        rng: the random generator to draw from (consumed deterministically).
        gender: 0 or 1 to fix the gender, ``None`` to draw it with p = 0.5.

    Returns:
        A new :class:`Identity`.

    Raises:
        ValueError: if ``gender`` is not 0, 1 or None.
    """
    if gender is None:
        gender = int(rng.integers(2))
    if gender not in (0, 1):
        raise ValueError(f"gender must be 0, 1 or None, got {gender!r}")
    m = float(gender)  # 1 for male, shifts the priors below
    hair_length = float(np.clip(rng.beta(2, 5) if gender else rng.beta(5, 2), 0, 1))
    beard = 0.0
    if gender and rng.random() < 0.3:
        beard = float(rng.uniform(0.12, 0.35) if rng.random() < 0.65 else rng.uniform(0.45, 0.7))
    fringe = 0.0
    if rng.random() < (0.05 if gender else 0.18):
        fringe = float(rng.uniform(-0.56, -0.49))
    glasses = float(rng.uniform(0.35, 0.95)) if rng.random() < 0.15 else 0.0
    n_marks = int(rng.integers(0, 4))
    marks = []
    for _ in range(n_marks):
        marks += [
            float(rng.uniform(-0.42, 0.42)),
            float(rng.uniform(-0.45, 0.5)),
            float(rng.uniform(0.006, 0.014)),
        ]
    return Identity(
        gender=int(gender),
        face_width=_tn(rng, 1.0 + 0.04 * m, 0.04, 0.88, 1.14),
        face_length=_tn(rng, 1.0 + 0.03 * m, 0.05, 0.88, 1.14),
        jaw_width=_tn(rng, 1.0 + 0.06 * m, 0.05, 0.86, 1.16),
        eye_spacing=_tn(rng, 0.0, 0.015, -0.035, 0.035),
        eye_size=_tn(rng, 1.0 - 0.04 * m, 0.07, 0.82, 1.18),
        eye_tilt=_tn(rng, 0.0, 0.01, -0.025, 0.025),
        eye_height=_tn(rng, 0.0, 0.015, -0.035, 0.035),
        brow_height=_tn(rng, 0.012 - 0.02 * m, 0.012, -0.03, 0.04),
        brow_arch=_tn(rng, 0.03 - 0.01 * m, 0.012, 0.0, 0.06),
        brow_thickness=_tn(rng, 0.026 + 0.01 * m, 0.006, 0.016, 0.05),
        brow_darkness=_tn(rng, 0.55 + 0.1 * m, 0.12, 0.25, 0.9),
        nose_length=_tn(rng, 1.0 + 0.03 * m, 0.06, 0.85, 1.18),
        nose_width=_tn(rng, 1.0 + 0.05 * m, 0.08, 0.8, 1.25),
        mouth_width=_tn(rng, 1.0, 0.06, 0.85, 1.18),
        mouth_height=_tn(rng, 0.0, 0.015, -0.035, 0.035),
        upper_lip=_tn(rng, 1.05 - 0.15 * m, 0.15, 0.6, 1.5),
        lower_lip=_tn(rng, 1.05 - 0.1 * m, 0.15, 0.6, 1.5),
        lip_darkness=_tn(rng, 0.3 - 0.08 * m, 0.07, 0.1, 0.5),
        lash_darkness=_tn(rng, 0.75 - 0.15 * m, 0.1, 0.4, 0.95),
        skin=_tn(rng, 160.0, 28.0, 85.0, 215.0),
        iris=_tn(rng, 60.0, 25.0, 20.0, 130.0),
        hair_line=_tn(rng, -0.53 - 0.04 * m * rng.random(), 0.035, -0.7, -0.46),
        hair_darkness=float(rng.beta(3, 1.5)),
        hair_length=hair_length,
        fringe=fringe,
        glasses=glasses,
        glasses_size=_tn(rng, 1.0, 0.08, 0.85, 1.2),
        beard=beard,
        age=float(rng.beta(1.5, 4.0)),
        warp=tuple(float(v) for v in rng.normal(0.0, 1.0, size=8)),
        marks=tuple(marks),
    )
