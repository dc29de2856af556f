"""Imaging conditions of one synthetic face crop, and the finishing steps.

A :class:`Nuisance` holds everything about a picture that is not the person
or the expression: head pose, where the face sits in the crop, lighting,
camera blur and noise, the background, and the crop geometry. The face box
is cut from a wider photo, so where it met the photo's border the crop is
narrower (or shorter) than square and was zero-padded to a square: black
bars on one or two sides, ``pad`` of the side in total.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Nuisance:
    """Imaging conditions (all deterministic; noise comes from ``noise_seed``).

    Attributes:
        yaw: head turn in degrees (+ = towards the image right).
        pitch: head nod in degrees (+ = chin down).
        rotation: in-plane rotation of the face in degrees.
        scale: face size relative to the nominal detector crop.
        shift_x: horizontal face offset, fraction of the crop side.
        shift_y: vertical face offset, fraction of the crop side.
        light_angle: direction the light comes from, radians (image plane).
        light_strength: 0..0.6 strength of the multiplicative light gradient.
        brightness: additive gray-level offset.
        contrast: multiplicative contrast about mid-gray.
        blur: gaussian blur sigma in output pixels (at 64 px; scaled with size).
        noise: sensor noise sigma in gray levels.
        noise_seed: seed of the sensor noise.
        background: gray level of the background.
        background2: gray level of the second background region.
        background_angle: orientation of the background edge, radians.
        pad: 0..0.25 fraction of the square that is zero padding.
        pad_axis: 0 = bars left/right (crop was tall), 1 = bars top/bottom.
        pad_split: share of the padding on the first side (0 or 1 = one bar).
    """

    yaw: float = 0.0
    pitch: float = 0.0
    rotation: float = 0.0
    scale: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    light_angle: float = -math.pi / 2
    light_strength: float = 0.1
    brightness: float = 0.0
    contrast: float = 1.0
    blur: float = 0.4
    noise: float = 2.0
    noise_seed: int = 0
    background: float = 90.0
    background2: float = 120.0
    background_angle: float = 0.3
    pad: float = 0.0
    pad_axis: int = 0
    pad_split: float = 0.5


def sample_nuisance(rng: np.random.Generator) -> Nuisance:
    """Draw imaging conditions for one still web photo.

    Args:
        rng: the random generator to draw from.

    Returns:
        A new :class:`Nuisance`; about a third of crops have no padding.
    """
    pad = 0.0 if rng.random() < 0.35 else float(rng.uniform(0.02, 0.25))
    split = float(rng.choice([0.0, 1.0, rng.uniform(0.3, 0.7)]))
    return Nuisance(
        yaw=float(np.clip(rng.normal(0, 8), -22, 22)),
        pitch=float(np.clip(rng.normal(0, 5), -14, 14)),
        rotation=float(np.clip(rng.normal(0, 4), -10, 10)),
        scale=float(rng.uniform(0.92, 1.08)),
        shift_x=float(rng.uniform(-0.04, 0.04)),
        shift_y=float(rng.uniform(-0.04, 0.04)),
        light_angle=float(rng.uniform(-math.pi, math.pi)),
        light_strength=float(rng.uniform(0.0, 0.45)),
        brightness=float(rng.normal(0, 12)),
        contrast=float(rng.uniform(0.75, 1.2)),
        blur=float(rng.uniform(0.0, 0.8)),
        noise=float(rng.uniform(0.5, 6.0)),
        noise_seed=int(rng.integers(2**31)),
        background=float(rng.uniform(10, 240)),
        background2=float(rng.uniform(10, 240)),
        background_angle=float(rng.uniform(0, math.pi)),
        pad=pad,
        pad_axis=int(rng.integers(2)),
        pad_split=split,
    )


def jitter_nuisance(base: Nuisance, rng: np.random.Generator, amount: float) -> Nuisance:
    """Small variation of ``base`` for the next video frame.

    Head pose, face position, lighting and camera settings move a little (by
    ``amount`` times a typical frame-to-frame step); the background and the
    crop geometry stay; the sensor noise is redrawn.

    Args:
        base: the conditions to vary.
        rng: the random generator to draw from.
        amount: size of the variation (1 = a typical step, 0 = none).

    Returns:
        A new :class:`Nuisance`.
    """
    n = rng.normal(size=9) * amount
    return dataclasses.replace(
        base,
        yaw=float(np.clip(base.yaw + 1.5 * n[0], -30, 30)),
        pitch=float(np.clip(base.pitch + 1.0 * n[1], -20, 20)),
        rotation=float(np.clip(base.rotation + 0.8 * n[2], -12, 12)),
        scale=float(np.clip(base.scale * (1 + 0.01 * n[3]), 0.85, 1.15)),
        shift_x=float(np.clip(base.shift_x + 0.005 * n[4], -0.08, 0.08)),
        shift_y=float(np.clip(base.shift_y + 0.005 * n[5], -0.08, 0.08)),
        light_strength=float(np.clip(base.light_strength + 0.02 * n[6], 0, 0.6)),
        brightness=float(base.brightness + 1.5 * n[7]),
        light_angle=float(base.light_angle + 0.05 * n[8]),
        noise_seed=int(rng.integers(2**31)),
    )


def finish(img: np.ndarray, shade: np.ndarray, nz: Nuisance) -> np.ndarray:
    """Apply shading, lighting, blur, contrast, noise and padding.

    Args:
        img: the downsampled face, uint8 (size, size).
        shade: shading map, uint8 (size, size), 128 = no change.
        nz: the imaging conditions.

    Returns:
        The finished uint8 (size, size) crop.
    """
    size = img.shape[0]
    f = img.astype(np.float32) * (shade.astype(np.float32) * (1.0 / 128.0))
    if nz.light_strength > 0:
        g = np.linspace(-1.0, 1.0, size, dtype=np.float32)
        gx = np.float32(math.cos(nz.light_angle) * nz.light_strength)
        gy = np.float32(math.sin(nz.light_angle) * nz.light_strength)
        f *= 1.0 + (gy * g)[:, None] + (gx * g)[None, :]
    sigma = nz.blur * size / 64.0
    if sigma > 0.05:
        f = cv2.GaussianBlur(f, (0, 0), sigma)
    f = (f - 128.0) * nz.contrast + (128.0 + nz.brightness)
    if nz.noise > 0:
        f += np.random.default_rng(nz.noise_seed).standard_normal(f.shape, np.float32) * nz.noise
    out = np.clip(f + 0.5, 0, 255).astype(np.uint8)
    if nz.pad > 0:
        bar = int(round(nz.pad * size))
        first = int(round(bar * nz.pad_split))
        second = bar - first
        if nz.pad_axis == 0:
            out[:, :first] = 0
            out[:, size - second :] = 0
        else:
            out[:first] = 0
            out[size - second :] = 0
    return out
