"""Tests of the synthetic face renderer, AU priors, noisy labeller and generators."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from keras_au.aus import (
    DISFA_AUS,
    DISFA_POSITIVE_RATES,
    DISFA_PRESENCE_THRESHOLD,
    OPENFACE_AUS,
    OPENFACE_LABEL_RATES,
)
from keras_au.synth import (
    LABELLER_ERROR_RATES,
    Nuisance,
    disfa_subject_frames,
    jitter_nuisance,
    noisy_presence,
    pretrain_example,
    render_face,
    sample_identity,
    sample_intensities,
    sample_nuisance,
    sample_video_intensities,
)
from keras_au.synth.labels import VIDEO_OTHER_RATES
from keras_au.synth.preview import main as preview_main

IX = {au: k for k, au in enumerate(OPENFACE_AUS)}
BROWS = ("AU01", "AU02", "AU04")
EYES = ("AU05", "AU06", "AU07", "AU45")
MOUTH = ("AU10", "AU12", "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU28")
CONFUSABLE = [("AU01", "AU02"), ("AU06", "AU07"), ("AU07", "AU45"), ("AU06", "AU45"),
              ("AU25", "AU26"), ("AU23", "AU28"), ("AU12", "AU14"), ("AU12", "AU20"),
              ("AU14", "AU20")]  # fmt: skip


def _plain_person(seed: int):
    ident = sample_identity(np.random.default_rng(seed))
    return dataclasses.replace(ident, glasses=0.0, fringe=0.0, beard=0.0)


PLAIN = Nuisance(noise=0.0, blur=0.3, light_strength=0.0)


def _au_diffs(seed: int, level: float) -> dict[str, np.ndarray]:
    """Signed difference image (float) of each AU at ``level`` against neutral."""
    person = _plain_person(seed)
    zero = np.zeros(len(OPENFACE_AUS))
    neutral = render_face(person, zero, PLAIN).astype(float)
    out = {}
    for au, k in IX.items():
        a = zero.copy()
        a[k] = level
        out[au] = render_face(person, a, PLAIN).astype(float) - neutral
    return out


@pytest.fixture(scope="module")
def diffs() -> dict[float, list[dict[str, np.ndarray]]]:
    return {lv: [_au_diffs(seed, lv) for seed in range(3)] for lv in (1, 2, 5)}


# --------------------------------------------------------------------------- renderer


def test_render_shape_dtype_and_determinism():
    rng = np.random.default_rng(0)
    person, nz = sample_identity(rng), sample_nuisance(rng)
    a = sample_intensities(rng, 1)[0]
    img = render_face(person, a, nz)
    assert img.shape == (64, 64) and img.dtype == np.uint8
    assert np.array_equal(img, render_face(person, a, nz))
    for size in (32, 128):
        assert render_face(person, a, nz, size=size).shape == (size, size)
    assert not np.array_equal(img, render_face(person, a, nz, pose=(15.0, 5.0, 3.0)))
    with pytest.raises(ValueError):
        render_face(person, np.zeros(12), nz)


def test_zero_padding_bars():
    rng = np.random.default_rng(1)
    person = sample_identity(rng)
    nz = dataclasses.replace(sample_nuisance(rng), pad=0.25, pad_axis=0, pad_split=1.0)
    img = render_face(person, np.zeros(18), nz)
    assert np.all(img[:, :16] == 0) and img[:, 20:].mean() > 10
    nz = dataclasses.replace(nz, pad_axis=1, pad_split=0.5)
    img = render_face(person, np.zeros(18), nz)
    assert np.all(img[:8] == 0) and np.all(img[-8:] == 0)


@pytest.mark.parametrize("au", OPENFACE_AUS)
def test_each_au_is_visible_growing_localized_and_bilateral(au, diffs):
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    for s in range(3):
        d1, d2, d5 = (np.abs(diffs[lv][s][au]) for lv in (1, 2, 5))
        assert 0 < d1.mean() < d2.mean() < d5.mean(), au
        assert d5.mean() > 0.3, f"{au} barely changes the face at intensity 5"
        cy = (d5 * yy).sum() / d5.sum()
        cx = (d5 * xx).sum() / d5.sum()
        assert abs(cx - 0.5) < 0.04, f"{au} is not bilateral (centroid x {cx:.2f})"
        if au in BROWS:
            assert cy < 0.32, (au, cy)
        elif au in EYES:
            assert 0.25 < cy < 0.48, (au, cy)
        elif au in MOUTH:
            assert cy > 0.58, (au, cy)
        else:  # AU09: nose (and inner brows)
            assert 0.28 < cy < 0.55, (au, cy)


def test_confusable_aus_change_the_face_differently(diffs):
    yy, xx = np.mgrid[0:64, 0:64] / 63.0
    for s in range(3):
        d = diffs[5][s]
        for p, q in CONFUSABLE:
            a, b = d[p].ravel(), d[q].ravel()
            cos = a @ b / np.sqrt((a @ a) * (b @ b))
            assert cos < 0.9, f"{p} and {q} look alike (cosine {cos:.2f})"

        spread = {au: float((np.abs(v) * np.abs(xx - 0.5)).sum() / np.abs(v).sum())
                  for au, v in d.items()}  # fmt: skip
        assert spread["AU01"] < spread["AU02"]  # inner vs outer brow
        extent = {}
        for au in ("AU14", "AU20"):
            v = np.abs(d[au])
            extent[au] = np.percentile(np.abs(xx - 0.5)[v > 0.3 * v.max()], 95)
        assert extent["AU14"] + 0.05 < extent["AU20"]  # dimples at the corners vs stretch beyond


def test_jitter_nuisance_is_small_and_keeps_the_crop():
    base = sample_nuisance(np.random.default_rng(2))
    j = jitter_nuisance(base, np.random.default_rng(3), 1.0)
    assert (j.pad, j.pad_axis, j.background) == (base.pad, base.pad_axis, base.background)
    assert abs(j.rotation - base.rotation) < 5 and abs(j.yaw - base.yaw) < 8
    still = jitter_nuisance(base, np.random.default_rng(3), 0.0)
    assert dataclasses.replace(still, noise_seed=base.noise_seed) == base


# --------------------------------------------------------------------------- labels


@pytest.fixture(scope="module")
def stills() -> np.ndarray:
    return sample_intensities(np.random.default_rng(5), 20000)


def test_sample_intensities_rates(stills):
    assert stills.shape == (20000, 18) and stills.dtype == np.float32
    assert stills.min() >= 0 and stills.max() <= 5
    present = stills >= DISFA_PRESENCE_THRESHOLD
    absent = stills[~present]
    assert absent.max() < 1.5  # absent AUs round to 0 or a trace 1
    assert 0.05 < np.mean(absent > 0) < 0.3
    subset = present[:5000]
    for au, k in IX.items():
        assert abs(subset[:, k].mean() - OPENFACE_LABEL_RATES[au]) < 0.06, au


def test_cooccurrence(stills):
    p = stills >= DISFA_PRESENCE_THRESHOLD
    a06, a12, a01, a02 = (p[:, IX[a]] for a in ("AU06", "AU12", "AU01", "AU02"))
    assert a12[a06].mean() > a12.mean() + 0.05
    assert a02[a01].mean() > a02.mean() + 0.02
    # independent per-AU noise: no AU is (linearly) predictable from the others alone
    x = np.c_[np.ones(len(p)), p].astype(float)
    for au, k in IX.items():
        others = np.delete(x, k + 1, axis=1)
        coef = np.linalg.lstsq(others, x[:, k + 1], rcond=None)[0]
        resid = x[:, k + 1] - others @ coef
        r2 = 1 - resid.var() / x[:, k + 1].var()
        assert r2 < 0.5, (au, r2)


def test_labeller_table_in_docstring_matches_the_rates():
    import re

    from keras_au.synth import labels

    rows = re.findall(r"(AU\d\d) \| ([\d.]+) \| ([\d.]+)", labels.__doc__)
    assert len(rows) == len(OPENFACE_AUS)
    for au, fpr, fnr in rows:
        assert LABELLER_ERROR_RATES[au] == (float(fpr), float(fnr)), au


@pytest.mark.parametrize("with_intensity", [False, True])
def test_noisy_labeller_rates(stills, with_intensity):
    true = (stills >= DISFA_PRESENCE_THRESHOLD).astype(np.uint8)
    noisy = noisy_presence(true, np.random.default_rng(6), stills if with_intensity else None)
    assert noisy.dtype == np.uint8 and noisy.shape == true.shape
    for au, k in IX.items():
        fpr, fnr = LABELLER_ERROR_RATES[au]
        t, n = true[:, k] == 1, noisy[:, k] == 1
        assert abs(n[~t].mean() - fpr) < 0.015, au
        assert abs((~n[t]).mean() - fnr) < 0.015, au
    # a perfect detector still beats the always-present baseline on noisy labels
    tp = (true & noisy).sum(0)
    f1_perfect = 2 * tp / (true.sum(0) + noisy.sum(0))
    f1_always = 2 * noisy.mean(0) / (1 + noisy.mean(0))
    assert np.all(f1_perfect > f1_always + 0.1)


def test_video_tracks_rates_and_smoothness():
    tracks = [sample_video_intensities(np.random.default_rng([9, s]), 1500) for s in range(100)]
    x = np.concatenate(tracks)
    assert x.shape == (150000, 18) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 5
    pos = (x >= DISFA_PRESENCE_THRESHOLD).mean(0)
    for au, rate in {**DISFA_POSITIVE_RATES, **VIDEO_OTHER_RATES}.items():
        assert abs(pos[IX[au]] - rate) < 0.01 + 0.3 * rate, (au, pos[IX[au]], rate)
    assert 0.02 < pos[IX["AU45"]] < 0.12  # blinks every few seconds
    per_subject = np.array([(t >= 2).mean(0) for t in tracks])
    assert per_subject[:, IX["AU04"]].std() > 0.05  # subjects differ in expressiveness
    longer = sample_video_intensities(np.random.default_rng([9, 0]), 2600)
    assert np.array_equal(longer[:1500], tracks[0])  # prefix-stable: n_frames changes nothing
    step = np.abs(np.diff(x, axis=0)).mean()
    far = np.abs(x[200:] - x[:-200]).mean()
    assert step < 0.25 * far


# --------------------------------------------------------------------------- generators


def test_pretrain_example_determinism_and_format():
    a, b, c = pretrain_example(7, 3), pretrain_example(7, 3), pretrain_example(7, 4)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert not np.array_equal(a["image"], c["image"])
    assert a["image"].shape == (64, 64, 1) and a["image"].dtype == np.uint8
    for key in ("aus", "aus_true", "intensity"):
        assert a[key].shape == (18,) and a[key].dtype == np.uint8, key
    assert set(np.unique(a["aus"])) <= {0, 1}
    assert np.array_equal(a["aus_true"], (a["intensity"] >= 2).astype(np.uint8))
    assert a["gender"] in (0, 1) and isinstance(a["identity"], int)
    assert pretrain_example(7, 3, size=32)["image"].shape == (32, 32, 1)


def test_pretrain_identities_and_gender():
    from keras_au.synth.generate import identity_of
    from keras_au.synth.identity import sample_identity as draw

    ids = [identity_of(0, i)[0] for i in range(4000)]
    _, counts = np.unique(ids, return_counts=True)
    assert 0.8 < np.mean(counts == 1) < 0.9
    genders = [draw(identity_of(0, i)[1]).gender for i in range(0, 4000, 4)]
    assert 0.42 < np.mean(genders) < 0.58
    rep = next(i for i in range(0, 400, 4) if identity_of(0, i)[0] == identity_of(0, i + 1)[0])
    one, two = pretrain_example(0, rep), pretrain_example(0, rep + 1)
    assert one["identity"] == two["identity"] and one["gender"] == two["gender"]


def test_disfa_frames_format_order_independence_and_smoothness():
    frames = list(disfa_subject_frames(0, "SN003", 260))
    assert [f["frame"] for f in frames] == list(range(260))
    f0 = frames[0]
    assert f0["image"].shape == (64, 64, 1) and f0["image"].dtype == np.uint8
    assert f0["intensity"].shape == (len(DISFA_AUS),) and f0["intensity"].dtype == np.uint8
    for f in frames:
        assert np.array_equal(f["aus"], (f["intensity"] >= 2).astype(np.uint8))
    again = list(disfa_subject_frames(0, "SN003", 260, frames=[200, 10]))
    assert [f["frame"] for f in again] == [200, 10]
    assert np.array_equal(again[0]["image"], frames[200]["image"])
    assert np.array_equal(again[1]["image"], frames[10]["image"])
    img = np.stack([f["image"][:, :, 0].astype(float) for f in frames])
    near = np.abs(img[1:] - img[:-1]).mean()
    far = np.abs(img[150:] - img[:-150]).mean()
    assert near < far
    other = next(disfa_subject_frames(0, "SN004", 1))
    assert not np.array_equal(other["image"], f0["image"])
    with pytest.raises(ValueError):
        next(disfa_subject_frames(0, "subject1", 5))


# --------------------------------------------------------------------------- preview & imports


def test_preview_writes_png(tmp_path):
    for config in ("gallery", "pretrain", "disfa"):
        out = tmp_path / f"{config}.png"
        args = ["--config", config, "--count", "4", "--stride", "5", "-o", str(out)]
        assert preview_main(args) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_preview_rejects_bad_arguments(tmp_path, capsys):
    assert preview_main(["--config", "nope", "-o", str(tmp_path / "x.png")]) == 2
    assert preview_main(["--count", "0", "-o", str(tmp_path / "x.png")]) == 2
    assert preview_main(["-o", str(tmp_path / "missing" / "x.png")]) == 2
    assert preview_main(["-o", str(tmp_path / "x.jpg")]) == 2
    assert preview_main([]) == 2
    err = capsys.readouterr().err
    assert all(line.startswith("python -m keras_au.synth.preview: error") for line in
               err.strip().splitlines())  # fmt: skip


def test_renderer_does_not_import_tensorflow():
    code = "import sys, keras_au.synth; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
