"""The procedural face renderer: person + AU intensities + conditions -> crop.

:func:`render_face` deforms the person's landmarks by the AU blend shapes,
draws the head (background, hair, skin, eyes, brows, nose, lips, beard,
glasses, wrinkles) as anti-aliased polygons at 2-4x the output size,
downsamples with ``INTER_AREA``, multiplies by a blurred shading map, and
finishes the crop (lighting gradient, blur, contrast, sensor noise, zero
padding). It is pure numpy + OpenCV and deterministic given its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from keras_au.aus import OPENFACE_AUS
from keras_au.synth.draw import SHADE, DisplayList, Projector, ellipse, mix, smooth
from keras_au.synth.identity import Identity, sample_identity
from keras_au.synth.landmarks import (
    AU_INDEX,
    LEFT_EYE,
    LOWER_INNER,
    LOWER_OUTER,
    RIGHT_EYE,
    UPPER_INNER,
    UPPER_OUTER,
    deform,
    person,
)  # fmt: skip
from keras_au.synth.nuisance import Nuisance, finish, jitter_nuisance, sample_nuisance
from keras_au.synth.texture import WRINKLE, shading, wrinkles

__all__ = [
    "Identity", "Nuisance", "jitter_nuisance", "render_face", "sample_identity",
    "sample_nuisance",
]  # fmt: skip

_FOREHEAD = np.array([(0.51, -0.33), (0.47, -0.52), (0.38, -0.67), (0.21, -0.77), (0.0, -0.8)])


def _mirror_path(half: np.ndarray) -> np.ndarray:
    """Right-to-left path: ``half`` (x > 0, ending on the midline) then its mirror."""
    return np.concatenate([half, half[-2::-1] * (-1, 1)])


def _outline(p: np.ndarray, fw: float) -> np.ndarray:
    """Face outline: the jaw landmarks and a forehead arc."""
    return np.concatenate([p[0:17], smooth(_mirror_path(_FOREHEAD * (fw, 1)), 2)])


def _head(dl: DisplayList, p: np.ndarray, ident: Identity) -> None:
    """Back hair, ears, neck and the skin of the face."""
    s, fw = ident.skin, ident.face_width
    hair = 12 + (1 - ident.hair_darkness) * 175
    long_ = ident.hair_length > 0.45
    if long_:
        bottom = 0.25 + 0.9 * ident.hair_length
        half = np.array([(0.70, bottom), (0.74, 0.25), (0.70, -0.35), (0.55, -0.72),
                         (0.28, -0.88), (0.0, -0.93)]) * (fw, 1)  # fmt: skip
    else:
        half = np.array([(0.57, -0.05), (0.6, -0.4), (0.48, -0.72), (0.25, -0.86), (0.0, -0.9)])
    dl.fill(smooth(_mirror_path(half), 2), int(hair))
    for sx in (-1, 1):
        dl.fill(ellipse(sx * (0.5 * fw + 0.02), -0.07, 0.05, 0.1), mix(s, 0, 0.1))
    neck = np.array([(-0.3, 0.3), (-0.34, 1.2), (0.34, 1.2), (0.3, 0.3)]) * (fw, 1)
    dl.fill(neck, mix(s, 0, 0.3))
    dl.fill(_outline(p, fw), int(s))


def _beard_region(p: np.ndarray, fw: float) -> np.ndarray:
    """Polygon of the bearded part of the face (moves with the jaw)."""
    upper = np.array([(0.4, 0.1), (0.24, 0.2), (0.1, p[33, 1] + 0.03), (0.0, p[33, 1] + 0.035)])
    return np.concatenate([p[1:16], smooth(_mirror_path(upper * (fw, 1)), 2)])


def _head_front(dl: DisplayList, p: np.ndarray, ident: Identity) -> None:
    """Beard and the hair in front of the face (hairline, side locks, fringe)."""
    s, fw = ident.skin, ident.face_width
    hair = 12 + (1 - ident.hair_darkness) * 175
    if ident.beard > 0.4:
        dl.fill(_beard_region(p, fw), mix(s, hair * 0.8, ident.beard - 0.3))
    hl = ident.hair_line
    front = np.array([(0.7, -0.05), (0.52, -0.1), (0.49, -0.3), (0.43, hl + 0.09),
                      (0.27, hl + 0.02), (0.0, hl)]) * (fw, 1)  # fmt: skip
    dl.fill(np.concatenate([_mirror_path(front), [(-0.75, -1.2), (0.75, -1.2)]]), int(hair))
    if ident.hair_length > 0.45:
        for sx in (-1, 1):
            lock = np.array([(0.5, -0.35), (0.475, -0.05), (0.46, 0.25), (0.5, 0.55),
                             (0.8, 0.9), (0.8, -0.3)]) * (sx * fw, 1)  # fmt: skip
            dl.fill(lock, int(hair))
    if ident.fringe:
        xs = np.linspace(-0.46, 0.46, 11) * fw
        ys = ident.fringe + np.where(np.arange(11) % 2, -0.035, 0.0)
        dl.fill(np.concatenate([np.c_[xs, ys], [(0.5 * fw, hl - 0.1), (-0.5 * fw, hl - 0.1)]]),
                int(hair))  # fmt: skip


def _eyes(
    dl: DisplayList, p: np.ndarray, base: np.ndarray, a: Sequence[float], ident: Identity
) -> None:
    """Sclera, iris, lids, lash lines and lid creases of both eyes."""
    s = ident.skin
    sclera = min(235, int(0.5 * s + 108))
    lash = mix(s, 12, ident.lash_darkness)
    r = 0.041 * ident.eye_size
    a04, a05 = a[AU_INDEX["AU04"]], a[AU_INDEX["AU05"]]
    for idx, iris in ((LEFT_EYE, 68), (RIGHT_EYE, 69)):
        e, rest = p[idx], base[idx]
        upper = smooth(e[[0, 1, 2, 3]], 4)
        lower = smooth(e[[3, 4, 5, 0]], 4)
        dl.fill(np.concatenate([upper, lower[1:-1]]), sclera)
        cx, cy = p[iris]
        dl.fill(ellipse(cx, cy, r, r), int(ident.iris))
        dl.fill(ellipse(cx, cy, r * 0.45, r * 0.45), 12)
        dl.fill(ellipse(cx + 0.4 * r, cy - 0.4 * r, 0.18 * r, 0.18 * r), 230)
        rest_up = smooth(rest[[0, 1, 2, 3]], 4)
        rest_low = smooth(rest[[3, 4, 5, 0]], 4)
        dl.fill(np.concatenate([upper, rest_up[::-1] - (0, 0.075)]), int(s))
        dl.fill(np.concatenate([lower, rest_low[::-1] + (0, 0.075)]), int(s))
        crease = rest_up[2:-2] - (0, 0.03 - 0.014 * a04 + 0.018 * a05)
        dl.line(crease, mix(s, s * 0.45, 0.55 * (1 - a05) + 0.25 * a04), WRINKLE * 0.8)
        dl.line(upper, lash, 0.017)
        dl.line(lower[1:-1], mix(s, 30, 0.4), 0.007)


def _brows(dl: DisplayList, p: np.ndarray, ident: Identity) -> None:
    """Eyebrows as tapered filled bands."""
    hair = 12 + (1 - ident.hair_darkness) * 175
    color = min(mix(ident.skin, hair * 0.8, ident.brow_darkness), int(ident.skin * 0.72))
    prof = np.array([0.55, 0.8, 0.95, 1.0, 1.0])[:, None] * ident.brow_thickness / 2
    for idx in (list(range(17, 22)), list(range(26, 21, -1))):
        c = p[idx]
        top, bot = smooth(c - (0, 1) * prof, 3), smooth(c + (0, 1) * prof, 3)
        dl.fill(np.concatenate([top, bot[::-1]]), color)


def _nose(dl: DisplayList, p: np.ndarray, ident: Identity) -> None:
    """Nostrils and the creases around the nostril wings."""
    s = ident.skin
    for wing, mid, sx in ((p[31], p[32], -1), (p[35], p[34], 1)):
        c = 0.55 * mid + 0.45 * wing - (0, 0.004)
        dl.fill(ellipse(c[0], c[1], 0.024 * ident.nose_width, 0.011, -0.3 * sx), mix(s, 15, 0.75))
        crease = [wing + (-0.012 * sx, -0.04), wing + (0.012 * sx, -0.012),
                  wing + (0.004 * sx, 0.012), mid + (0, 0.01)]  # fmt: skip
        dl.line(smooth(np.array(crease), 3), mix(s, s * 0.4, 0.55), WRINKLE * 0.8)


def _mouth(dl: DisplayList, p: np.ndarray, a: Sequence[float], ident: Identity) -> None:
    """Mouth interior and teeth when open, both lips, the lip line."""
    s = ident.skin
    up_in, low_in = smooth(p[UPPER_INNER], 3), smooth(p[LOWER_INNER], 3)
    gap = float(np.max(low_in[::-1, 1] - up_in[:, 1]))
    if gap > 0.004:
        dl.fill(np.concatenate([up_in, low_in]), mix(s, 8, 0.85))
        if gap > 0.012:
            teeth = min(235, int(0.45 * s + 115))
            lo = low_in[::-1, 1]
            top = up_in[1:-1]
            bot = np.c_[top[:, 0], np.minimum(top[:, 1] + 0.03, lo[1:-1] - 0.003)]
            dl.fill(np.concatenate([top, bot[::-1]]), teeth)
            if gap > 0.06:
                ltop = np.c_[top[:, 0] * 0.8, lo[1:-1] - 0.02]
                dl.fill(np.concatenate([ltop, np.c_[ltop[:, 0], lo[1:-1]][::-1]]), teeth - 20)
    red = ident.lip_darkness * (1 - 0.3 * a[AU_INDEX["AU23"]]) * (1 - 0.9 * a[AU_INDEX["AU28"]])
    upper = np.concatenate([smooth(p[UPPER_OUTER], 3), up_in[::-1]])
    lower = np.concatenate([smooth(p[LOWER_OUTER[::-1]], 3), low_in])
    dl.fill(upper, mix(s, 0, red * 1.2))
    dl.fill(lower, mix(s, 0, red * 0.85))
    a28 = a[AU_INDEX["AU28"]]
    closed = 1.0 if gap <= 0.004 else 0.4
    dl.line(up_in, mix(s, 10, 0.6 * closed + 0.35 * a28), 0.011 + 0.014 * a28)


def _extras(dl: DisplayList, base: np.ndarray, ident: Identity) -> None:
    """Moles and glasses (these do not move with the AUs)."""
    s = ident.skin
    m = ident.marks
    for k in range(0, len(m), 3):
        dl.fill(ellipse(m[k], m[k + 1], m[k + 2], m[k + 2]), mix(s, s * 0.4, 0.8))
    if ident.glasses:
        col, g = mix(s, 10, ident.glasses), ident.glasses_size
        th = 0.008 + 0.01 * ident.glasses
        centres = []
        for idx in (LEFT_EYE, RIGHT_EYE):
            c = base[idx].mean(0) + (0, 0.01)
            centres.append(c)
            dl.line(ellipse(c[0], c[1], 0.115 * g, 0.078 * g), col, th, closed=True)
        (lx, ly), (rx, ry) = centres
        dl.line([(lx + 0.11 * g, ly - 0.02), (0, ly - 0.035), (rx - 0.11 * g, ry - 0.02)], col, th)
        fw = ident.face_width
        dl.line([(lx - 0.115 * g, ly - 0.01), (-0.5 * fw, ly - 0.03)], col, th)
        dl.line([(rx + 0.115 * g, ry - 0.01), (0.5 * fw, ry - 0.03)], col, th)


def _background(canvas: np.ndarray, nz: Nuisance) -> None:
    """Two-tone background split by a straight edge (in crop coordinates)."""
    canvas[:] = int(nz.background)
    n = canvas.shape[0]
    c, s = math.cos(nz.background_angle), math.sin(nz.background_angle)
    mid = np.array([n / 2 + 0.3 * n * c, n / 2 + 0.3 * n * s])
    along = np.array([-s, c]) * 2 * n
    out = np.array([c, s]) * 2 * n
    poly = np.array([mid + along, mid + along + out, mid - along + out, mid - along])
    cv2.fillConvexPoly(canvas, np.rint(poly).astype(np.int32), int(nz.background2))


def render_face(
    identity: Identity,
    intensities: np.ndarray,
    nuisance: Nuisance,
    size: int = 64,
    pose: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Render one grayscale face crop.

    Args:
        identity: the person.
        intensities: float array (18,) of AU intensities 0-5 in ``OPENFACE_AUS``
            order.
        nuisance: the imaging conditions (pose, crop, light, noise seed).
        size: side of the square output in pixels.
        pose: optional ``(yaw, pitch, roll)`` in degrees overriding the
            nuisance's yaw and pitch (roll adds to its in-plane rotation).

    Returns:
        A uint8 array of shape ``(size, size)``.

    Raises:
        ValueError: if ``intensities`` does not have 18 values or ``size`` < 16.
    """
    a_raw = np.asarray(intensities, np.float64).reshape(-1)
    if a_raw.shape != (len(OPENFACE_AUS),):
        raise ValueError(f"intensities must have {len(OPENFACE_AUS)} values, got {a_raw.size}")
    if size < 16:
        raise ValueError(f"size must be at least 16, got {size}")
    a = (np.clip(a_raw, 0, 5) / 5.0).tolist()  # python floats: faster scalar maths
    p = deform(identity, a_raw)
    base = person(identity)[0]
    ss = 4 if size <= 48 else 3 if size <= 96 else 2
    canvas = np.empty((size * ss, size * ss), np.uint8)
    shade = np.full((size, size), 128, np.uint8)
    _background(canvas, nuisance)
    dl = DisplayList()
    _head(dl, p, identity)
    wrinkles(dl, p, a, identity)
    _head_front(dl, p, identity)
    _eyes(dl, p, base, a, identity)
    _brows(dl, p, identity)
    _nose(dl, p, identity)
    _mouth(dl, p, a, identity)
    _extras(dl, base, identity)
    shading(dl, p, base, a, _outline(p, identity.face_width))
    if identity.beard > 0:  # stubble darkens softly (and hides chin texture)
        v = 128 * (1 - 0.3 * min(identity.beard, 0.35) / 0.35)
        dl.fill(_beard_region(p, identity.face_width), int(v), SHADE)
    dl.draw(Projector(nuisance, size, pose), canvas, shade)
    img = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA)
    shade = cv2.GaussianBlur(shade, (0, 0), 1.3 * size / 64)
    return finish(img, shade, nuisance)
