"""AU priors for synthetic stills and videos, and the imitated noisy labeller.

Stills (``pretrain``): each face draws one expression prototype (the
co-occurrences of ``docs/synthetic-faces.md``: happiness, surprise, sadness,
anger, disgust, fear, talking, neutral) and each AU is then also switched on
independently with a per-AU background probability solved so that the TRUE
presence rate (intensity >= ``DISFA_PRESENCE_THRESHOLD``) equals
``OPENFACE_LABEL_RATES`` in expectation. Absent AUs are 0, or a trace
(0.5-1.45, rounds to 1) with probability ``TRACE_PROB``.

The labels stored for stills imitate an automatic (OpenFace-like) labeller:
``noisy_presence`` flips the true presence with these per-AU rates (FPR =
P(label 1 | absent), FNR = P(label 0 | present)); with intensities given, a
trace AU is 2.5x as likely to be falsely flagged as a 0 one (and a 0 one
0.74x), keeping the mean FPR as listed.

| AU | FPR | FNR |   | AU | FPR | FNR |
|----|-----|-----|---|----|-----|-----|
| AU01 | 0.08 | 0.10 | | AU14 | 0.12 | 0.15 |
| AU02 | 0.07 | 0.10 | | AU15 | 0.09 | 0.12 |
| AU04 | 0.07 | 0.10 | | AU17 | 0.08 | 0.12 |
| AU05 | 0.08 | 0.10 | | AU20 | 0.09 | 0.13 |
| AU06 | 0.07 | 0.08 | | AU23 | 0.11 | 0.15 |
| AU07 | 0.12 | 0.14 | | AU25 | 0.04 | 0.05 |
| AU09 | 0.06 | 0.10 | | AU26 | 0.08 | 0.10 |
| AU10 | 0.09 | 0.11 | | AU28 | 0.10 | 0.15 |
| AU12 | 0.05 | 0.06 | | AU45 | 0.04 | 0.06 |

Videos (``disfa``): :func:`sample_video_intensities` lays Poisson-distributed
events (onset, apex, offset; 15-150 frames) of the same prototypes, talking
segments (AU25 with AU26 in alternation), blinks every 2-5 s and single-AU
events. Each subject scales every event rate by its own Gamma(1, 1) factor
(some people are far more expressive); the single-AU rates are solved
analytically so the positive rates averaged over subjects match
``DISFA_POSITIVE_RATES`` (and ``VIDEO_OTHER_RATES`` for uncoded AUs).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from keras_au.aus import (
    DISFA_AUS,
    DISFA_POSITIVE_RATES,
    DISFA_PRESENCE_THRESHOLD,
    OPENFACE_AUS,
    OPENFACE_LABEL_RATES,
)

_IX = {au: k for k, au in enumerate(OPENFACE_AUS)}
_N = len(OPENFACE_AUS)
TRACE_PROB = 0.15

#: Still-image prototypes: (weight, {AU: probability of being present}).
PROTOTYPES: dict[str, tuple[float, dict[str, float]]] = {
    "neutral": (0.18, {}),
    "happiness": (0.22, {"AU06": 0.9, "AU12": 0.95, "AU25": 0.6, "AU07": 0.4, "AU10": 0.45,
                         "AU14": 0.4, "AU26": 0.2}),
    "surprise": (0.11, {"AU01": 0.9, "AU02": 0.9, "AU05": 0.8, "AU26": 0.7, "AU25": 0.7}),
    "sadness": (0.10, {"AU01": 0.8, "AU04": 0.8, "AU15": 0.85, "AU17": 0.55, "AU28": 0.2}),
    "anger": (0.08, {"AU04": 0.9, "AU05": 0.5, "AU07": 0.85, "AU23": 0.7, "AU17": 0.3}),
    "disgust": (0.08, {"AU09": 0.9, "AU10": 0.9, "AU15": 0.45, "AU17": 0.45, "AU04": 0.4}),
    "fear": (0.05, {"AU01": 0.9, "AU02": 0.8, "AU04": 0.8, "AU05": 0.8, "AU07": 0.5,
                    "AU20": 0.85, "AU26": 0.6, "AU25": 0.6}),
    "talking": (0.18, {"AU25": 0.9, "AU26": 0.5, "AU10": 0.3, "AU14": 0.3, "AU45": 0.25}),
}  # fmt: skip

#: Per-AU (false-positive rate, false-negative rate) of the imitated labeller.
LABELLER_ERROR_RATES: dict[str, tuple[float, float]] = {
    "AU01": (0.08, 0.10), "AU02": (0.07, 0.10), "AU04": (0.07, 0.10), "AU05": (0.08, 0.10),
    "AU06": (0.07, 0.08), "AU07": (0.12, 0.14), "AU09": (0.06, 0.10), "AU10": (0.09, 0.11),
    "AU12": (0.05, 0.06), "AU14": (0.12, 0.15), "AU15": (0.09, 0.12), "AU17": (0.08, 0.12),
    "AU20": (0.09, 0.13), "AU23": (0.11, 0.15), "AU25": (0.04, 0.05), "AU26": (0.08, 0.10),
    "AU28": (0.10, 0.15), "AU45": (0.04, 0.06),
}  # fmt: skip

#: Video event types: {AU: probability of taking part}; the first AU leads.
VIDEO_EVENTS: dict[str, dict[str, float]] = {
    "smile": {"AU12": 1.0, "AU06": 0.6, "AU25": 0.45, "AU07": 0.25, "AU10": 0.15, "AU26": 0.1},
    "surprise": {"AU01": 0.95, "AU02": 0.9, "AU05": 0.15, "AU26": 0.35, "AU25": 0.5},
    "sadness": {"AU04": 0.8, "AU01": 0.5, "AU15": 0.7, "AU17": 0.6},
    "frown": {"AU04": 1.0, "AU07": 0.4, "AU23": 0.2, "AU17": 0.25},
    "disgust": {"AU09": 1.0, "AU10": 0.6, "AU04": 0.5, "AU17": 0.3, "AU15": 0.2},
    "fear": {"AU20": 0.9, "AU01": 0.9, "AU02": 0.7, "AU04": 0.8, "AU05": 0.3, "AU26": 0.5,
             "AU25": 0.6},
}  # fmt: skip
#: Expected fraction of frames a taking-part AU is positive, per event type (before
#: subject variation); talking is given as its AU25 share.
_VIDEO_EVENT_COVER = {"smile": 0.10, "surprise": 0.035, "sadness": 0.02, "frown": 0.10,
                      "disgust": 0.03, "fear": 0.01}  # fmt: skip
_TALK_COVER_AU25 = 0.16
#: Positive rates of the AUs DISFA does not code (they still occur in its videos).
VIDEO_OTHER_RATES: dict[str, float] = {
    "AU07": 0.07, "AU10": 0.05, "AU14": 0.05, "AU23": 0.03, "AU28": 0.01,
}  # fmt: skip
_KAPPA = 1.0  # Gamma shape of the per-subject rate factors (mean 1)
_PAD = 260  # events may start this many frames before the video
_BLOCK = 500  # events are drawn per block of frames (prefix-stable tracks)

for _k, (_w, _ps) in PROTOTYPES.items():
    assert set(_ps) <= set(OPENFACE_AUS), _k
for _ps in VIDEO_EVENTS.values():
    assert set(_ps) <= set(OPENFACE_AUS)
assert set(LABELLER_ERROR_RATES) == set(OPENFACE_AUS)
assert not set(VIDEO_OTHER_RATES) & set(DISFA_AUS)

_W = np.array([w for w, _ in PROTOTYPES.values()])
_W = _W / _W.sum()
_P = np.array([[ps.get(au, 0.0) for au in OPENFACE_AUS] for _, ps in PROTOTYPES.values()])
_TARGET = np.array([OPENFACE_LABEL_RATES[au] for au in OPENFACE_AUS])
_P_PROTO = _W @ _P
assert np.all(_P_PROTO <= _TARGET), "prototype AU rates exceed the target rates"
#: per-AU probability of switching an AU on independently of the prototype
BACKGROUND = 1 - (1 - _TARGET) / (1 - _P_PROTO)
_FPR = np.array([LABELLER_ERROR_RATES[au][0] for au in OPENFACE_AUS])
_FNR = np.array([LABELLER_ERROR_RATES[au][1] for au in OPENFACE_AUS])


def sample_intensities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw AU intensities for ``n`` still faces.

    Args:
        rng: the random generator to draw from.
        n: number of faces.

    Returns:
        float32 array (n, 18) of intensities 0-5 in ``OPENFACE_AUS`` order; an
        AU is present when its intensity is >= ``DISFA_PRESENCE_THRESHOLD``.
    """
    k = rng.choice(len(_W), size=n, p=_W)
    proto = rng.random((n, _N)) < _P[k]
    bg = rng.random((n, _N)) < BACKGROUND
    strength = rng.uniform(0.2, 1.0, size=(n, 1))
    lo = float(DISFA_PRESENCE_THRESHOLD)
    proto_level = lo + (5 - lo) * np.clip(strength + rng.normal(0, 0.2, (n, _N)), 0, 1)
    bg_level = lo + (5 - lo) * rng.beta(1.3, 2.2, (n, _N))
    trace = np.where(rng.random((n, _N)) < TRACE_PROB, rng.uniform(0.5, 1.45, (n, _N)), 0.0)
    out = np.where(proto, proto_level, np.where(bg, bg_level, trace))
    return out.astype(np.float32)


def noisy_presence(
    true_presence: np.ndarray, rng: np.random.Generator, intensities: np.ndarray | None = None
) -> np.ndarray:
    """Imitate the automatic labeller: flip presence with ``LABELLER_ERROR_RATES``.

    Args:
        true_presence: 0/1 array (..., 18) in ``OPENFACE_AUS`` order.
        rng: the random generator to draw from.
        intensities: optional matching intensities; trace-level (0.5-2) absent
            AUs are then flagged more often than 0-level ones (same mean FPR).

    Returns:
        uint8 0/1 array of the same shape.
    """
    tp = np.asarray(true_presence).astype(bool)
    fp = np.broadcast_to(_FPR, tp.shape)
    if intensities is not None:
        trace = np.asarray(intensities) >= 0.5
        boost = 1.5
        fp = fp * np.where(trace, 1 + boost, 1 - boost * TRACE_PROB / (1 - TRACE_PROB))
    u = rng.random(tp.shape)
    return np.where(tp, u >= _FNR, u < fp).astype(np.uint8)


# ----------------------------------------------------------------------------- videos


def _envelope(rng: np.random.Generator) -> np.ndarray:
    """One event's time course (onset, apex with a slight wobble, offset), peak ~1."""
    on, ap, off = int(rng.integers(4, 26)), int(rng.integers(5, 91)), int(rng.integers(6, 36))
    up = np.arange(1, on + 1) / on
    down = 1 - np.arange(1, off + 1) / off
    period, phase = rng.uniform(20, 60), rng.uniform(0, 2 * math.pi)
    apex = 1 + 0.04 * np.sin(2 * math.pi * np.arange(ap) / period + phase)
    return np.concatenate([up * up * (3 - 2 * up), apex, down * down * (3 - 2 * down)])


def _peak(rng: np.random.Generator) -> float:
    return 1.0 + 4.0 * rng.beta(2.0, 1.6)


def _talk(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """AU25 and AU26 tracks of one talking segment (syllables, jaw on loud ones)."""
    length = int(rng.integers(40, 251))
    periods = rng.integers(5, 11, size=length // 5 + 1)
    ends = np.cumsum(periods)
    n_syl = int(np.searchsorted(ends, length)) + 1
    t = np.arange(int(ends[n_syl - 1]))
    syl = np.searchsorted(ends[:n_syl], t, side="right")
    start = np.r_[0, ends[: n_syl - 1]][syl]
    bump = np.sin(math.pi * (t - start + 0.5) / periods[syl])
    amp = rng.uniform(0.15, 1.0, size=n_syl)[syl]
    au25 = np.minimum(5.0, 5.5 * amp * np.sqrt(bump))
    au26 = np.clip(10.0 * (amp - 0.55) * bump, 0, 5)
    return au25[:length], au26[:length]


@cache
def _calibration() -> tuple[dict[str, float], float, np.ndarray]:
    """Event rates per frame, the talking rate, and single-AU rates (fixed seed)."""
    rng = np.random.default_rng(20240611)
    thr = DISFA_PRESENCE_THRESHOLD
    d_event = float(np.mean([
        np.sum(_peak(rng) * rng.uniform(0.75, 1.1) * _envelope(rng) >= thr) for _ in range(3000)
    ]))  # fmt: skip
    talks = [_talk(rng) for _ in range(600)]
    d25 = float(np.mean([np.sum(a >= thr) for a, _ in talks]))
    d26 = float(np.mean([np.sum(b >= thr) for _, b in talks]))
    rates = {k: cover / d_event for k, cover in _VIDEO_EVENT_COVER.items()}
    talk_rate = _TALK_COVER_AU25 / d25
    # mean over subjects of exp(-m x), m ~ Gamma(kappa, 1/kappa): (1 + x/kappa)^-kappa
    keep = np.ones(_N)
    for kind, members in VIDEO_EVENTS.items():
        for au, prob in members.items():
            keep[_IX[au]] *= (1 + rates[kind] * prob * d_event / _KAPPA) ** -_KAPPA
    keep[_IX["AU25"]] *= (1 + talk_rate * d25 / _KAPPA) ** -_KAPPA
    keep[_IX["AU26"]] *= (1 + talk_rate * d26 / _KAPPA) ** -_KAPPA
    target = {**DISFA_POSITIVE_RATES, **VIDEO_OTHER_RATES}
    solo = np.zeros(_N)
    for au, r in target.items():
        need = (1 - r) / keep[_IX[au]]
        x = _KAPPA * (need ** (-1 / _KAPPA) - 1) if need < 1 else 0.0
        solo[_IX[au]] = x / d_event
    return rates, talk_rate, solo


def _blinks(rng: np.random.Generator, out: np.ndarray) -> None:
    """Blinks (AU45) every ~60-120 frames lasting 4-8 frames, some partial."""
    n = len(out)
    mean_gap = rng.uniform(60, 120)
    t = rng.uniform(0, mean_gap)
    k = _IX["AU45"]
    while t < n:
        dur = int(rng.integers(4, 9))
        peak = 5.0 if rng.random() < 0.8 else rng.uniform(2.0, 4.5)
        prof = peak * np.sin(math.pi * (np.arange(dur) + 0.5) / dur) ** 0.7
        s = int(t)
        seg = out[s : s + dur, k]
        np.maximum(seg, prof[: len(seg)], out=seg)
        t += mean_gap * rng.uniform(0.5, 1.5)


def sample_video_intensities(rng: np.random.Generator, n_frames: int) -> np.ndarray:
    """Draw smooth AU intensity tracks for one subject's video.

    The tracks are prefix-stable: the first ``k`` frames are the same whatever
    ``n_frames`` >= ``k`` is (events are drawn in fixed blocks of frames).

    Args:
        rng: the random generator to draw from (one subject).
        n_frames: number of frames.

    Returns:
        float32 array (n_frames, 18) in ``OPENFACE_AUS`` order, intensities 0-5.
    """
    rates, talk_rate, solo = _calibration()
    # subject traits first (a fixed number of draws), then per-block event streams
    kinds = list(VIDEO_EVENTS)
    mult = rng.gamma(_KAPPA, 1 / _KAPPA, size=len(kinds) + 1 + _N)
    ev_rate = {k: rates[k] * mult[i] for i, k in enumerate(kinds)}
    talk = talk_rate * mult[len(kinds)]
    solo_rate = solo * mult[len(kinds) + 1 :]
    key = int(rng.integers(2**62))
    out = np.zeros((n_frames + 2 * _PAD, _N))

    def place(start: int, track: np.ndarray, au: int) -> None:
        seg = out[start : start + len(track), au]
        np.maximum(seg, track[: len(seg)], out=seg)

    for block in range(-(-(n_frames + _PAD) // _BLOCK)):
        brng = np.random.default_rng([key, 1, block])
        lo = block * _BLOCK

        def starts(rate: float, brng: np.random.Generator = brng, lo: int = lo) -> np.ndarray:
            return lo + np.sort(brng.integers(0, _BLOCK, size=brng.poisson(rate * _BLOCK)))

        for kind, members in VIDEO_EVENTS.items():
            for s in starts(ev_rate[kind]):
                env, peak = _envelope(brng), _peak(brng)
                for au, prob in members.items():
                    if brng.random() < prob:
                        place(s, np.minimum(5.0, peak * brng.uniform(0.75, 1.1) * env), _IX[au])
        for s in starts(talk):
            au25, au26 = _talk(brng)
            place(s, au25, _IX["AU25"])
            place(s, au26, _IX["AU26"])
        for j in np.flatnonzero(solo_rate):
            for s in starts(float(solo_rate[j])):
                level = _peak(brng) * brng.uniform(0.75, 1.1)
                place(s, np.minimum(5.0, level * _envelope(brng)), j)
    video = out[_PAD : _PAD + n_frames]
    _blinks(np.random.default_rng([key, 0]), video)
    return video.astype(np.float32)
