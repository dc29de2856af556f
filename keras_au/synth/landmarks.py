"""Face landmarks: the template, a person's shape and the AU displacements.

Coordinates are "face units": x to the image right, y down, the face about
one unit wide, origin between the eyes and the mouth. Points 0-67 follow the
iBUG 68-point layout (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, outer
lips 48-59, inner lips 60-67); six extra points follow (iris centres 68/69,
cheek apexes 70/71, chin boss 72, forehead centre 73).

Each AU is a linear "blend shape": ``AU_BASIS[k]`` is the displacement of all
points at intensity 5, built per person so that e.g. a blink moves the upper
lid exactly onto that person's lower lid. :func:`deform` adds the intensity-
weighted basis and then applies the few non-linear rules (lids and lips
cannot cross; the lower lip follows a dropped jaw only when the lips part).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from keras_au.aus import OPENFACE_AUS
from keras_au.synth.identity import Identity

N_POINTS = 74
AU_INDEX: dict[str, int] = {au: k for k, au in enumerate(OPENFACE_AUS)}
#: chin displacement (face units) of a jaw drop at intensity 5
JAW_DROP = 0.105

# Left half (image left = subject's right) and midline points of the template.
_HALF: dict[int, tuple[float, float]] = {
    0: (-0.500, -0.170), 1: (-0.497, -0.045), 2: (-0.484, 0.080),
    3: (-0.460, 0.200), 4: (-0.418, 0.312), 5: (-0.350, 0.412),
    6: (-0.260, 0.492), 7: (-0.140, 0.553), 8: (0.000, 0.575),
    17: (-0.400, -0.300), 18: (-0.335, -0.340), 19: (-0.260, -0.355),
    20: (-0.185, -0.345), 21: (-0.110, -0.320),
    27: (0.000, -0.170), 28: (0.000, -0.100), 29: (0.000, -0.030), 30: (0.000, 0.050),
    31: (-0.085, 0.095), 32: (-0.045, 0.112), 33: (0.000, 0.117),
    36: (-0.350, -0.165), 37: (-0.300, -0.203), 38: (-0.205, -0.203),
    39: (-0.150, -0.160), 40: (-0.205, -0.130), 41: (-0.300, -0.132),
    48: (-0.200, 0.300), 49: (-0.125, 0.268), 50: (-0.050, 0.252), 51: (0.000, 0.260),
    57: (0.000, 0.362), 58: (-0.050, 0.359), 59: (-0.125, 0.338),
    60: (-0.186, 0.300), 61: (-0.070, 0.292), 62: (0.000, 0.294),
    66: (0.000, 0.299), 67: (-0.070, 0.298),
    68: (-0.252, -0.167), 70: (-0.285, 0.030), 72: (0.000, 0.470), 73: (0.000, -0.470),
}  # fmt: skip

_PAIRS = [(i, 16 - i) for i in range(8)] + [(17 + i, 26 - i) for i in range(5)]
_PAIRS += [(31, 35), (32, 34), (36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
_PAIRS += [(48, 54), (49, 53), (50, 52), (58, 56), (59, 55), (60, 64), (61, 63), (67, 65)]
_PAIRS += [(68, 69), (70, 71)]

#: ``MIRROR[i]`` is the left/right counterpart of point ``i`` (itself on the midline).
MIRROR = np.arange(N_POINTS)
for _a, _b in _PAIRS:
    MIRROR[_a], MIRROR[_b] = _b, _a

TEMPLATE = np.zeros((N_POINTS, 2), np.float64)
for _i, (_x, _y) in _HALF.items():
    TEMPLATE[_i] = (_x, _y)
    TEMPLATE[MIRROR[_i]] = (-_x, _y)

LEFT_EYE = [36, 37, 38, 39, 40, 41]
RIGHT_EYE = [45, 44, 43, 42, 47, 46]  # same order as LEFT_EYE, mirrored
UPPER_OUTER = [48, 49, 50, 51, 52, 53, 54]
LOWER_OUTER = [54, 55, 56, 57, 58, 59, 48]
UPPER_INNER = [60, 61, 62, 63, 64]
LOWER_INNER = [64, 65, 66, 67, 60]


def _sym(d: np.ndarray, i: int, lat: float, dy: float) -> None:
    """Set a bilateral displacement: ``lat`` > 0 moves away from the midline."""
    x = TEMPLATE[i, 0]
    d[i] = (-lat if x < 0 else lat if x > 0 else 0.0, dy)
    j = MIRROR[i]
    if j != i:
        d[j] = (-d[i, 0], dy)


_EYES, _BROWS, _NOSE, _MOUTH = np.r_[36:48, 68:70], np.r_[17:27], np.r_[27:36], np.r_[48:68]
_EYE_SETS = (np.r_[36:42, 68], np.r_[42:48, 69])
_JAW = np.arange(17)
_ARCH = np.array([18, 19, 20, 23, 24, 25])
_ARCH_W = np.array([0.6, 1, 0.6, 0.6, 1, 0.6])


def _shape(ident: Identity) -> np.ndarray:
    """The person's neutral landmarks."""
    p = TEMPLATE.copy()
    x, y = p[:, 0], p[:, 1]
    eyes, brows, nose, mouth = _EYES, _BROWS, _NOSE, _MOUTH
    # eyes: size about each eye centre, spacing, tilt, height
    for idx in _EYE_SETS:
        c = p[idx[-1]].copy()
        side = np.sign(c[0])
        rel = (p[idx] - c) * ident.eye_size
        rel[:, 1] -= ident.eye_tilt * rel[:, 0] * side / 0.1  # outer corner up
        p[idx] = c + rel
        p[idx, 0] += side * ident.eye_spacing
    y[eyes] += ident.eye_height
    # brows: height, arch, follow the eye spacing
    y[brows] -= ident.brow_height - ident.eye_height
    y[_ARCH] -= ident.brow_arch * _ARCH_W - 0.02
    x[brows] += np.sign(x[brows]) * ident.eye_spacing * 0.7
    # nose
    y[nose] = -0.17 + (y[nose] + 0.17) * ident.nose_length
    x[31:36] *= ident.nose_width
    # mouth: width, height, lip thickness (relative to the inner lip line)
    x[mouth] *= ident.mouth_width
    y[mouth] += ident.mouth_height + (ident.nose_length - 1) * 0.1
    up = [49, 50, 51, 52, 53]
    y[up] = 0.29 + (y[up] - 0.29) * ident.upper_lip
    lo = [55, 56, 57, 58, 59]
    y[lo] = 0.30 + (y[lo] - 0.30) * ident.lower_lip
    # face outline: width, jaw, length below the eyes
    jaw = _JAW
    x[jaw] *= ident.face_width
    low = np.clip((y[jaw] - 0.05) / 0.5, 0, 1)
    x[jaw] *= 1 + (ident.jaw_width - 1) * low
    lower = y > -0.17
    y[lower] = -0.17 + (y[lower] + 0.17) * ident.face_length
    x[70:72] *= ident.face_width
    # smooth random warp (low-order polynomial, mostly symmetric)
    w = np.asarray(ident.warp) * 0.012
    dx = w[0] * x * y * 2 + w[1] * x * (y + 0.2) + w[2] * y * 0.5
    dy = w[3] * x * x * 2 + w[4] * y * y + w[5] * x * 0.4 + w[6] * y
    x += dx  # x and y are views into p
    y += dy
    return p


def _const_basis() -> np.ndarray:
    """The person-independent part of the AU displacements at intensity 5."""
    b = np.zeros((len(OPENFACE_AUS), N_POINTS, 2))

    def au(name: str) -> np.ndarray:
        return b[AU_INDEX[name]]

    d = au("AU01")  # inner brow raiser: inner ends up, oblique
    for i, w in zip(range(17, 22), (0.0, 0.15, 0.4, 0.75, 1.0), strict=True):
        _sym(d, i, -0.004 * w, -0.085 * w)
    _sym(d, 73, 0, -0.03)
    d = au("AU02")  # outer brow raiser: outer two thirds up into an arch
    for i, w in zip(range(17, 22), (0.85, 1.0, 0.75, 0.35, 0.05), strict=True):
        _sym(d, i, 0.006 * w, -0.085 * w)
    d = au("AU04")  # brow lowerer: down and together, upper lid pushed down
    for i, w in zip(range(17, 22), (0.35, 0.55, 0.75, 0.95, 1.0), strict=True):
        _sym(d, i, -0.045 * w * w, 0.055 * w)
    for i in (37, 38):
        _sym(d, i, 0, 0.012)
    _sym(d, 73, 0, 0.01)
    d = au("AU05")  # upper lid raiser
    for i, w in ((37, 1.0), (38, 1.0)):
        _sym(d, i, 0, -0.045 * w)
    for i in (40, 41):
        _sym(d, i, 0, 0.006)
    d = au("AU06")  # cheek raiser: lower lid pushed up, cheeks up
    for i, w in ((40, 1.0), (41, 1.0), (36, 0.3)):
        _sym(d, i, 0, -0.024 * w)
    _sym(d, 70, 0, -0.05)
    _sym(d, 17, 0, 0.012)
    _sym(d, 48, 0, -0.006)
    d = au("AU07")  # lid tightener: lower lid raised and straightened (+ _basis)
    for i in (37, 38):
        _sym(d, i, 0, 0.01)
    d = au("AU09")  # nose wrinkler
    for i, w in ((31, 1.0), (32, 0.7), (33, 0.5), (30, 0.35)):
        _sym(d, i, 0.004 * w, -0.04 * w)
    for i in (20, 21):
        _sym(d, i, 0, 0.02)
    for i in (49, 50, 51):
        _sym(d, i, 0, -0.012)
    for i in (40, 41):
        _sym(d, i, 0, -0.008)
    d = au("AU10")  # upper lip raiser: centre of the upper lip up, angular
    for i, w in ((49, 0.75), (50, 1.0), (51, 0.85), (61, 0.9), (62, 0.85), (48, 0.1)):
        _sym(d, i, 0, -0.042 * w)
    _sym(d, 31, 0, -0.012)
    d = au("AU12")  # lip corner puller: corners up and out
    for i, lat, dy in ((48, 0.035, -0.048), (60, 0.033, -0.046), (49, 0.015, -0.02),
                       (59, 0.018, -0.03), (61, 0.012, -0.018), (67, 0.012, -0.022),
                       (58, 0.004, -0.006)):  # fmt: skip
        _sym(d, i, lat, dy)
    _sym(d, 70, 0.005, -0.018)
    d = au("AU14")  # dimpler: corners tightened and pulled in
    for i, lat, dy in ((48, -0.028, -0.008), (60, -0.026, -0.006), (49, -0.01, 0.0),
                       (59, -0.012, -0.004)):  # fmt: skip
        _sym(d, i, lat, dy)
    d = au("AU15")  # lip corner depressor: corners down, lower lip stretched
    for i, lat, dy in ((48, 0.01, 0.045), (60, 0.01, 0.043), (49, 0.0, 0.014),
                       (59, 0.015, 0.018), (67, 0.006, 0.014), (58, 0.01, 0.004),
                       (57, 0.0, -0.005)):  # fmt: skip
        _sym(d, i, lat, dy)
    d = au("AU17")  # chin raiser: chin and lower lip pushed up
    for i, w in ((57, 1.0), (58, 0.9), (59, 0.5), (66, 0.8), (67, 0.6)):
        _sym(d, i, 0, -0.03 * w)
    for i, w in ((51, 0.4), (50, 0.3), (62, 0.5), (61, 0.35), (48, -0.3), (60, -0.3)):
        _sym(d, i, 0, -0.02 * w)
    for i, w in ((8, 1.0), (7, 0.8), (6, 0.35), (72, 1.2)):
        _sym(d, i, 0, -0.022 * w)
    d = au("AU20")  # lip stretcher: corners out, lips flattened
    for i, lat, dy in ((48, 0.055, 0.01), (60, 0.053, 0.01), (49, 0.025, 0.008),
                       (59, 0.028, -0.01), (61, 0.02, 0.002), (67, 0.02, -0.002),
                       (50, 0.008, 0.01), (51, 0.0, 0.01), (58, 0.01, -0.016),
                       (57, 0.0, -0.018)):  # fmt: skip
        _sym(d, i, lat, dy)
    d = au("AU23")  # lip tightener: red narrowed towards the lip line (+ _basis)
    d28 = au("AU28")  # lip suck: red gone, lips rolled in (+ _basis)
    for i in (48, 60):
        _sym(d, i, -0.014, 0)
        _sym(d28, i, -0.02, 0.004)
    d = au("AU25")  # lips part
    for i, w in ((61, 0.8), (62, 1.0)):
        _sym(d, i, 0, -0.012 * w)
    for i, w in ((49, 0.6), (50, 0.8), (51, 0.8)):
        _sym(d, i, 0, -0.008 * w)
    for i, w in ((67, 0.8), (66, 1.0), (59, 0.7), (58, 0.9), (57, 1.0)):
        _sym(d, i, 0, 0.06 * w)
    d = au("AU26")  # jaw drop: jaw and chin down (+ _basis; lower lip in deform)
    jaw = JAW_DROP
    _sym(d, 72, 0, jaw * 0.95)
    _sym(d, 48, -0.008, jaw * 0.25)
    _sym(d, 60, -0.008, jaw * 0.25)
    _sym(d, 70, 0, 0.012)
    return b


_CONST_BASIS = _const_basis()
_K07, _K23, _K25, _K26, _K28, _K45 = (
    AU_INDEX[a] for a in ("AU07", "AU23", "AU25", "AU26", "AU28", "AU45")
)
# (lower-lid point, near corner, far corner), both eyes
_LIDS = np.array([(40, 39, 36), (41, 36, 39), (47, 42, 45), (46, 45, 42)])
# (upper-lid point, lower-lid point below it), both eyes
_BLINK = np.array([(37, 41), (38, 40), (44, 46), (43, 47)])
# (outer lip point, inner lip point it rolls towards), both sides
_ROLL = np.array([(49, 61), (50, 61), (51, 62), (59, 67), (58, 67), (57, 66),
                  (53, 63), (52, 63), (55, 65), (56, 65)])  # fmt: skip


def _basis(p: np.ndarray) -> np.ndarray:
    """Per-AU displacement of every point at intensity 5, shape (18, N, 2)."""
    b = _CONST_BASIS.copy()
    lid, near, far = _LIDS.T
    line_y = p[near, 1] * 0.67 + p[far, 1] * 0.33
    b[_K07, lid, 1] = line_y - p[lid, 1] - 0.012
    up, low = _BLINK.T
    b[_K45, up, 1] = p[low, 1] - p[up, 1] + 0.004
    outer, inner = _ROLL.T
    gap = p[inner, 1] - p[outer, 1]
    b[_K23, outer, 1] = 0.6 * gap
    b[_K28, outer, 1] = 0.92 * gap
    w = np.clip((p[_JAW, 1] + 0.1) / (p[8, 1] + 0.1), 0, 1) ** 1.3
    b[_K26, _JAW, 0] = -0.01 * w * np.sign(p[_JAW, 0])
    b[_K26, _JAW, 1] = JAW_DROP * w
    return b


@lru_cache(maxsize=512)
def person(ident: Identity) -> tuple[np.ndarray, np.ndarray]:
    """Neutral landmarks (N, 2) and AU basis (18, N, 2) of one person (cached)."""
    p = _shape(ident)
    b = _basis(p)
    p.setflags(write=False)
    b.setflags(write=False)
    return p, b


def deform(ident: Identity, intensities: np.ndarray) -> np.ndarray:
    """Landmarks of ``ident`` showing the given AU intensities (0-5, OpenFace order)."""
    base, basis = person(ident)
    a = np.clip(np.asarray(intensities, np.float64), 0, 5) / 5.0
    pts = base + np.tensordot(a, basis, axes=1)
    # the lower lip follows a dropped jaw only when the lips are apart
    jaw = JAW_DROP * a[_K26]
    if jaw > 0:
        gate = min(1.0, a[_K25] * 2.5)
        follow = jaw * (0.15 + 0.62 * gate)
        pts[[55, 56, 57, 58, 59, 65, 66, 67], 1] += follow
        pts[[48, 54, 60, 64], 1] += follow * 0.15
    # lids and lips cannot cross
    for up, low in ((37, 41), (38, 40), (44, 46), (43, 47)):
        pts[up, 1] = min(pts[up, 1], pts[low, 1] - 0.001)
    for up, low in ((61, 67), (62, 66), (63, 65)):
        pts[low, 1] = max(pts[low, 1], pts[up, 1] + 0.002)
    for up, low in ((49, 61), (50, 61), (51, 62), (52, 63), (53, 63)):
        pts[up, 1] = min(pts[up, 1], pts[low, 1] - 0.004)
    for lo_in, lo_out in ((67, 59), (67, 58), (66, 57), (65, 56), (65, 55)):
        pts[lo_out, 1] = max(pts[lo_out, 1], pts[lo_in, 1] + 0.004)
    return pts


def depth(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Approximate height of the face surface towards the camera (for head pose)."""
    r = 1 - (x / 0.62) ** 2 - ((y + 0.05) / 0.9) ** 2
    z = 0.55 * np.sqrt(np.clip(r, 0.0, None))
    ridge = np.clip((y + 0.2) / 0.27, 0, 1) * np.exp(-((np.maximum(y - 0.07, 0) / 0.04) ** 2))
    return z + 0.12 * ridge * np.exp(-((x / 0.06) ** 2))
