import math

import numpy as np
import pytest
import tensorflow as tf

from keras_au import augment


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (4, 64, 64, 1)).astype(np.uint8)


def params(batch, **changes):
    p = augment.identity_params(batch)
    for key, value in changes.items():
        p[key] = tf.fill([batch], float(value))
    return p


def test_identity_returns_input(images):
    out = augment.warp(images, augment.identity_params(4), 64).numpy()
    np.testing.assert_allclose(out, images, atol=1e-4)


def test_flip_flips(images):
    out = augment.warp(images, params(4, flip=1), 64).numpy()
    np.testing.assert_allclose(out, images[:, :, ::-1], atol=1e-4)


def test_shift_moves_content():
    img = np.zeros((1, 64, 64, 1), np.uint8)
    img[0, 30:34, 30:34] = 255
    out = augment.warp(img, params(1, shift_x=4 / 64, shift_y=-2 / 64), 64).numpy()[0, :, :, 0]
    ys, xs = np.nonzero(out > 128)
    assert xs.mean() == pytest.approx(31.5 + 4, abs=0.01)
    assert ys.mean() == pytest.approx(31.5 - 2, abs=0.01)


def test_rotation_by_90_degrees_matches_rot90(images):
    out = augment.warp(images, params(4, angle=math.pi / 2), 64).numpy()
    expected = np.rot90(images, k=-1, axes=(1, 2))  # +90 deg, y axis down = clockwise on screen
    np.testing.assert_allclose(out, expected, atol=1e-3)


def test_scale_enlarges_about_the_centre():
    img = np.zeros((1, 64, 64, 1), np.uint8)
    img[0, 22:42, 22:42] = 255
    out = augment.warp(img, params(1, scale_x=1.5), 64).numpy()[0, :, :, 0]
    cols = np.nonzero(out[32] > 128)[0]
    rows = np.nonzero(out[:, 32] > 128)[0]
    assert len(cols) == 30 and len(rows) == 20


def test_resizes_larger_stored_faces():
    img = np.tile(np.arange(128, dtype=np.uint8)[None, None, :, None] * 2, (1, 128, 1, 1))
    out = augment.eval_batch(img, 64).numpy()
    assert out.shape == (1, 64, 64, 1)
    assert np.all(np.diff(out[0, 10, :, 0]) > 0)  # the ramp survives downsampling


def test_reflected_borders_leave_no_black():
    img = np.full((1, 64, 64, 1), 200, np.uint8)
    out = augment.warp(img, params(1, shift_x=0.08, angle=0.3), 64).numpy()
    assert out.min() == pytest.approx(200, abs=1e-3)


def test_random_params_stay_in_paper_ranges():
    p = augment.sample_params(20000, tf.constant([3, 4]))
    assert np.abs(p["shift_x"]).max() <= 0.08 and np.abs(p["shift_y"]).max() <= 0.08
    for axis in ("scale_x", "scale_y"):
        s = p[axis].numpy()
        assert s.min() >= 1 / 1.05 - 1e-6 and s.max() <= 1.05 + 1e-6
        assert 0.45 < (s < 1).mean() < 0.55
    assert np.abs(p["angle"]).max() <= math.radians(20) + 1e-6
    assert np.abs(p["skew_x"]).max() <= 0.05
    assert 0.48 < p["flip"].numpy().mean() < 0.52
    # each parameter is drawn independently
    assert abs(np.corrcoef(p["shift_x"], p["shift_y"])[0, 1]) < 0.05
    assert abs(np.corrcoef(p["skew_y"], p["flip"])[0, 1]) < 0.05


def test_augment_is_seeded_and_normalized(images):
    a = augment.augment_batch(images, tf.constant([1, 2])).numpy()
    b = augment.augment_batch(images, tf.constant([1, 2])).numpy()
    c = augment.augment_batch(images, tf.constant([1, 3])).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.dtype == np.float32 and a.min() >= -1 and a.max() <= 1
    assert augment.normalize(np.array([0, 127.5, 255])).numpy().tolist() == [-1, 0, 1]


def test_uint8_training_warp_matches_float_within_half_a_gray_level():
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (8, 96, 96, 1), dtype=np.uint8)
    fast = augment.augment_batch(tf.constant(faces), tf.constant([4, 5])).numpy()
    exact = augment.augment_batch(tf.constant(faces, tf.float32), tf.constant([4, 5])).numpy()
    error = (fast - exact) * augment.PIXEL_CENTER  # in gray levels
    assert np.abs(error).max() <= 0.5 + 1e-3
    assert abs(error.mean()) < 0.05  # truncation re-centred: no brightness bias
    assert fast.max() <= 1.0 and fast.min() >= -1.0
    white = augment.augment_batch(tf.fill([2, 96, 96, 1], tf.constant(255, tf.uint8)), tf.constant([1, 1]))
    assert float(tf.reduce_max(white)) == 1.0
