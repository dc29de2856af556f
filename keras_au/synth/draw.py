"""Drawing machinery: projection of face units to pixels and a display list.

Shapes are collected in face units on a :class:`DisplayList`, projected in
one vectorised call (head pose, in-plane rotation, scale, shift) and drawn
with anti-aliased OpenCV primitives at sub-pixel precision. Two layers
exist: ``CANVAS`` (the supersampled gray image) and ``SHADE`` (a low-res
multiplicative shading map, 128 = 1.0, blurred before use).
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from keras_au.synth.landmarks import depth
from keras_au.synth.nuisance import Nuisance

CANVAS, SHADE = 0, 1
_FILL, _OPEN, _CLOSED = 0, 1, 2
_SHIFT = 4
#: face units -> output pixels: the face (about 1 unit wide) spans 84% of the crop.
FACE_FRACTION = 0.84
#: face-unit y that sits at the crop centre.
CROP_CENTRE_Y = 0.01


def mix(a: float, b: float, t: float) -> int:
    """Gray level ``a`` blended towards ``b`` by ``t`` (clipped to 0..1)."""
    t = min(max(t, 0.0), 1.0)
    return int(round(a + (b - a) * t))


@lru_cache(maxsize=64)
def _cr_weights(n: int, sub: int) -> np.ndarray:
    """Catmull-Rom weights mapping n control points to a dense open curve."""
    t = np.arange(sub) / sub
    w = np.stack(
        [(-t**3 + 2 * t**2 - t) / 2, (3 * t**3 - 5 * t**2 + 2) / 2,
         (-3 * t**3 + 4 * t**2 + t) / 2, (t**3 - t**2) / 2], 1,
    )  # fmt: skip
    rows = np.zeros(((n - 1) * sub + 1, n))
    for seg in range(n - 1):
        for k, off in enumerate((-1, 0, 1, 2)):
            j = min(max(seg + off, 0), n - 1)
            rows[seg * sub : (seg + 1) * sub, j] += w[:, k]
    rows[-1, n - 1] = 1.0
    return rows


def smooth(pts: np.ndarray, sub: int = 3) -> np.ndarray:
    """A smooth open curve through ``pts`` (n, 2), ``sub`` samples per segment."""
    return _cr_weights(len(pts), sub) @ pts


_CIRCLE = np.stack(
    [np.cos(np.linspace(0, 2 * np.pi, 18, endpoint=False)),
     np.sin(np.linspace(0, 2 * np.pi, 18, endpoint=False))], 1,
)  # fmt: skip


def ellipse(cx: float, cy: float, ax: float, ay: float, angle: float = 0.0) -> np.ndarray:
    """An ellipse as an 18-point polygon (angle in radians)."""
    p = _CIRCLE * (ax, ay)
    if angle:
        c, s = math.cos(angle), math.sin(angle)
        p = p @ np.array([[c, s], [-s, c]])
    return p + (cx, cy)


class Projector:
    """Face units -> output pixel coordinates for one crop."""

    def __init__(self, nz: Nuisance, size: int, pose: tuple[float, float, float] | None):
        yaw, pitch, roll = pose if pose is not None else (nz.yaw, nz.pitch, 0.0)
        self.yaw, self.pitch = math.radians(yaw), math.radians(pitch)
        r = math.radians(nz.rotation + roll)
        self.unit = FACE_FRACTION * size * nz.scale  # pixels per face unit
        c, s = math.cos(r) * self.unit, math.sin(r) * self.unit
        self.a = np.array([[c, -s], [s, c]])
        centre = np.array([size / 2 + nz.shift_x * size, size / 2 + nz.shift_y * size])
        self.t = centre - self.a @ np.array([0.0, CROP_CENTRE_Y])

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        x, y = pts[:, 0], pts[:, 1]
        if self.yaw or self.pitch:
            z = depth(x, y) - 0.3
            cy, sy = math.cos(self.yaw), math.sin(self.yaw)
            cp, sp = math.cos(self.pitch), math.sin(self.pitch)
            x1 = x * cy + z * sy
            z1 = z * cy - x * sy
            y = y * cp + z1 * sp - 0.3 * sp  # nod about the neck, keep the face centred
            x = x1 - 0.3 * sy
        return np.stack([x, y], 1) @ self.a.T + self.t


class DisplayList:
    """Shapes in face units, drawn in order after one projection."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._items: list[tuple[int, int, int, int, int, float]] = []
        self._n = 0

    def _add(self, layer: int, kind: int, pts: np.ndarray, color: int, thick: float) -> None:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        self._chunks.append(pts)
        self._items.append((layer, kind, self._n, self._n + len(pts), int(color), thick))
        self._n += len(pts)

    def fill(self, pts: np.ndarray, color: int, layer: int = CANVAS) -> None:
        """A filled polygon."""
        self._add(layer, _FILL, pts, color, 0.0)

    def line(self, pts: np.ndarray, color: int, thick: float, layer: int = CANVAS,
             closed: bool = False) -> None:  # fmt: skip
        """A polyline; ``thick`` in face units (at least one pixel)."""
        self._add(layer, _CLOSED if closed else _OPEN, pts, color, thick)

    def draw(self, proj: Projector, canvas: np.ndarray, shade: np.ndarray) -> None:
        """Project everything once and draw it onto the two layers."""
        if not self._chunks:
            return
        q = proj(np.concatenate(self._chunks))
        ss = canvas.shape[0] / shade.shape[0]
        layers = (
            (canvas, np.rint(q * (ss * 16)).astype(np.int32), proj.unit * ss),
            (shade, np.rint(q * 16).astype(np.int32), proj.unit),
        )
        for layer, kind, a, b, color, thick in self._items:
            img, qi, unit = layers[layer]
            pts = qi[a:b]
            if kind == _FILL:
                cv2.fillPoly(img, [pts], color, cv2.LINE_AA, _SHIFT)
            else:
                t = max(1, int(round(thick * unit)))
                cv2.polylines(img, [pts], kind == _CLOSED, color, t, cv2.LINE_AA, _SHIFT)
