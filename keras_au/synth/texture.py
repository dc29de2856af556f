"""AU wrinkles, furrows and shading, plus the person's static wrinkles.

Every function adds shapes in face units to a :class:`DisplayList`: thin
dark lines on the canvas (wrinkles, furrows, dimples) and soft patches on
the shading map (bulges, hollows). Their contrast grows with the AU's
intensity ``a`` (0..1 = intensity / 5), so at intensity 1 they are barely
there and at 5 unmistakable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_au.synth.draw import SHADE, DisplayList, ellipse, mix, smooth
from keras_au.synth.identity import Identity
from keras_au.synth.landmarks import AU_INDEX

WRINKLE = 0.011  # line width of a wrinkle, face units
# a fixed pattern of chin "orange peel" dimples around the chin boss
_CHIN_DOTS = np.array(
    [(-0.06, -0.02), (-0.03, -0.035), (0.0, -0.02), (0.03, -0.035), (0.06, -0.02),
     (-0.045, 0.01), (-0.015, 0.0), (0.015, 0.0), (0.045, 0.01), (-0.03, 0.035),
     (0.0, 0.03), (0.03, 0.035)],
)  # fmt: skip


def wrinkles(dl: DisplayList, p: np.ndarray, a: Sequence[float], ident: Identity) -> None:
    """Add AU and age wrinkles (canvas lines) for landmarks ``p`` and levels ``a``."""
    s = ident.skin
    dark = s * 0.42

    def w(pts: np.ndarray | list, alpha: float, thick: float = WRINKLE) -> None:
        if alpha > 0.02:
            dl.line(np.asarray(pts, float), mix(s, dark, alpha), thick)

    a01, a02, a04 = a[AU_INDEX["AU01"]], a[AU_INDEX["AU02"]], a[AU_INDEX["AU04"]]
    a06, a07, a09 = a[AU_INDEX["AU06"]], a[AU_INDEX["AU07"]], a[AU_INDEX["AU09"]]
    a10, a12, a14 = a[AU_INDEX["AU10"]], a[AU_INDEX["AU12"]], a[AU_INDEX["AU14"]]
    a15, a17, a20 = a[AU_INDEX["AU15"]], a[AU_INDEX["AU17"]], a[AU_INDEX["AU20"]]
    a23, age = a[AU_INDEX["AU23"]], ident.age
    inner_y = min(p[21, 1], p[22, 1])
    # forehead: AU01 central lines, AU02 lines over the outer brows, age faint full lines
    for k in range(3):
        y = inner_y - 0.07 - 0.032 * k
        half = 0.13 - 0.025 * k
        xs = np.linspace(-half, half, 5)
        w(np.c_[xs, y + 0.012 * (xs / half) ** 2 - 0.004], 0.95 * a01 - 0.12 * k * a01)
        w(np.c_[np.linspace(-0.36, 0.36, 7), np.full(7, y - 0.01)], 0.28 * age)
    for brow, sign in ((p[17:21], 1), (p[23:27][::-1], -1)):
        for k in range(2):
            line = brow[:4] + (0.0, -0.072 - 0.033 * k)
            line[0] += (0.03 * sign, 0.01)
            w(smooth(line, 2), 0.9 * a02 - 0.15 * k * a02)
    # AU04: vertical lines between the brows
    for sx in (-1, 1):
        x0 = sx * (0.022 + 0.01 * (1 - a04))
        w(
            [(x0 * 1.2, inner_y - 0.035), (x0, inner_y + 0.015), (x0 * 0.8, inner_y + 0.05)],
            0.85 * a04,
        )
    # eyes: AU06 crow's feet and lower-lid bag, AU07 straight tension line
    for oc, low_a, low_b, ic, sx in ((36, 41, 40, 39, -1.0), (45, 46, 47, 42, 1.0)):
        corner, inner = p[oc], p[ic]
        c = corner + (0.022 * sx, 0.0)
        for dy in (-0.04, 0.0, 0.04):  # a fan of short lines, not meeting at one point
            c0 = c + (0.008 * sx, dy * 0.3)
            w([c0, c0 + (0.03 * sx, dy * 0.45), c0 + (0.065 * sx, dy * 0.8)], 0.9 * a06)
        bag = np.array([corner + (-0.02 * sx, 0.03), p[low_a] + (0, 0.036),
                        p[low_b] + (0, 0.034), inner + (0.012 * sx, 0.02)])  # fmt: skip
        w(smooth(bag, 3), 0.6 * a06 + 0.25 * age)
        w(np.array([corner, inner]) + (0, 0.014), 0.55 * a07, WRINKLE * 0.8)
    # AU09: wrinkles across the root and sides of the nose
    root = p[28]
    for k in range(3):
        y = root[1] - 0.02 + 0.022 * k
        w([(-0.045, y + 0.008), (0, y), (0.045, y + 0.008)], a09 * (1 - 0.2 * k))
    for sx in (-1, 1):
        w([(sx * 0.03, p[28, 1] + 0.005), (sx * 0.075, p[28, 1] + 0.05)], 0.8 * a09)
    # nasolabial furrows (AU10, AU12, AU09, AU06 deepen them), dimples, depressor lines
    fold = min(1.0, 0.8 * a10 + 0.75 * a12 + 0.25 * a09 + 0.15 * a06)
    for wing, corner, sx in ((p[31], p[48], -1), (p[35], p[54], 1)):
        path = np.array([
            wing + (0.035 * sx, -0.03), wing + (0.055 * sx, 0.02),
            corner + (0.045 * sx - 0.015 * sx * a12, -0.03),
            corner + (0.04 * sx, 0.005 + 0.015 * a12)])  # fmt: skip
        w(smooth(path, 3), max(0.3 * age, 0.72 * fold))
        w(smooth(path[:2], 2), 0.6 * a10, WRINKLE * 1.3)
        w([corner + (0.03 * sx, -0.03), corner + (0.042 * sx, 0), corner + (0.032 * sx, 0.03)],
          0.95 * a14)  # fmt: skip
        w([corner + (0.005 * sx, 0.015), corner + (0.02 * sx, 0.05), corner + (0.035 * sx, 0.08)],
          0.8 * a15)  # fmt: skip
        w([corner + (0.025 * sx, 0.002), corner + (0.06 * sx, 0.01), corner + (0.1 * sx, 0.025)],
          0.85 * a20)  # fmt: skip
        if a14 > 0.05:
            dl.fill(ellipse(*(corner + (0.006 * sx, 0)), 0.012, 0.01), mix(s, dark, 0.8 * a14))
    # AU17: dimpled chin boss
    if a17 > 0.05:
        col = mix(s, dark, 0.7 * a17)
        for dx, dy in _CHIN_DOTS:
            dl.fill(ellipse(p[72, 0] + dx, p[72, 1] + dy, 0.009, 0.007), col)
    # AU23: tight vermilion border
    if a23 > 0.05:
        col = mix(s, dark, 0.75 * a23)
        dl.line(smooth(p[[48, 49, 50, 51, 52, 53, 54]], 2), col, WRINKLE * 0.7)
        dl.line(smooth(p[[54, 55, 56, 57, 58, 59, 48]], 2), col, WRINKLE * 0.7)


def shading(
    dl: DisplayList, p: np.ndarray, base: np.ndarray, a: Sequence[float], outline: np.ndarray
) -> None:
    """Add soft shading (the SHADE layer, 128 = neutral) for the face and the AUs."""

    def sh(pts: np.ndarray, v: float) -> None:
        dl.fill(pts, min(255, max(0, round(128 + v))), SHADE)

    centre = np.array([0.0, 0.0])
    for k, v in enumerate((-16, -9, -3, 3)):  # rounded face: darker towards the edges
        sh(centre + (outline - centre) * (1 - 0.06 * k) * (1, 1 - 0.03 * k), v)

    a04, a06 = a[AU_INDEX["AU04"]], a[AU_INDEX["AU06"]]
    a09, a12 = a[AU_INDEX["AU09"]], a[AU_INDEX["AU12"]]
    a17, a26, a28 = a[AU_INDEX["AU17"]], a[AU_INDEX["AU26"]], a[AU_INDEX["AU28"]]
    a01, a25, a23 = a[AU_INDEX["AU01"]], a[AU_INDEX["AU25"]], a[AU_INDEX["AU23"]]
    for iris, cheek, inner in ((p[68], p[70], p[21]), (p[69], p[71], p[22])):
        sx = np.sign(iris[0])
        sh(ellipse(iris[0], iris[1] - 0.025, 0.12, 0.075), -16 - 10 * a04)  # eye socket
        sh(
            ellipse(cheek[0] * 1.08, cheek[1] + 0.11 + 0.03 * a26, 0.06, 0.045 + 0.035 * a26),
            -3 - 9 * a26,
        )  # hollow under the cheekbone, longer when the jaw drops
        sh(ellipse(cheek[0], cheek[1], 0.095, 0.05), 6 + 14 * a06 + 6 * a12)  # cheek apple
        sh(ellipse(iris[0], base[40, 1] + 0.045, 0.085, 0.022), -24 * a06)  # lower-lid bag
        sh(ellipse(inner[0] - 0.035 * sx, inner[1] + 0.05, 0.06, 0.03), -30 * a04)  # brow shadow
        nose_side = np.array([(0.045, -0.14), (0.07, -0.02), (0.095, 0.07), (0.06, 0.07),
                              (0.035, -0.02), (0.025, -0.14)]) * (sx, 1)  # fmt: skip
        sh(nose_side, -12)
    sh(ellipse(0, p[28, 1] + 0.02, 0.018, 0.09), 12)  # nose bridge highlight
    sh(ellipse(p[30, 0], p[30, 1], 0.03, 0.03), 16)  # nose tip
    sh(ellipse(0, p[33, 1] + 0.028, 0.07, 0.02), -20)  # under the nose
    sh(ellipse(0, p[28, 1] - 0.02, 0.055, 0.045), -20 * a09)  # wrinkled nose root
    sh(ellipse(0, p[73, 1], 0.14, 0.06), 10 * a01)  # forehead bulge
    sh(ellipse(p[72, 0], p[72, 1], 0.085, 0.05), 8 + 20 * a17)  # chin boss
    sh(ellipse(0, p[57, 1] + 0.035, 0.085, 0.022), -18 - 22 * a17 + 6 * a26)  # mentolabial
    sh(ellipse(0, p[51, 1] - 0.03, 0.12, 0.025), -30 * a28)  # lips rolled in: above
    sh(ellipse(0, p[57, 1] + 0.02, 0.11, 0.025), -30 * a28)  # and below
    sh(ellipse(0, p[51, 1] - 0.03, 0.1, 0.018), 14 * a23)  # tense bulge above the lips
    sh(ellipse(0, p[57, 1] + 0.06, 0.09, 0.05), -10 * a26 * (1 - a25))  # stretched chin
