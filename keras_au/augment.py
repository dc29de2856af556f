"""The paper's augmentation, batched and in-graph.

One projective-transform op warps a whole batch: each output pixel of the
64×64 result is mapped back into the stored face (of any square size) through
a per-image affine matrix built from the sampled parameters, and sampled
bilinearly with reflected borders. The evaluation path uses the same op with
identity parameters, so training and evaluation see identically resampled
faces.

Parameters, drawn per image (``shared/docs/method.md``):
    shift   ±8 % of the output size on each axis
    scale   per axis in [1, 1.05], inverted with probability ½
    rotate  ±20°
    skew    ±0.05 on each axis
    flip    horizontal, with probability ½
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf

#: Pixel value mapped to 0 by :func:`normalize`; also its scale.
PIXEL_CENTER = 127.5


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    """Ranges of the paper's augmentation (defaults are the paper's)."""

    max_shift: float = 0.08
    max_scale: float = 1.05
    max_rotation_deg: float = 20.0
    max_skew: float = 0.05
    flip_probability: float = 0.5


#: The paper's augmentation ranges.
PAPER_AUGMENTATION = AugmentParams()


def sample_params(
    batch_size: tf.Tensor | int, seed: tf.Tensor, params: AugmentParams = PAPER_AUGMENTATION
) -> dict[str, tf.Tensor]:
    """Draw augmentation parameters for a batch with stateless RNG.

    Args:
        batch_size: number of images.
        seed: shape ``[2]`` int seed; the same seed gives the same draw.
        params: the ranges.

    Returns:
        Dict of ``[batch]`` float32 tensors: ``shift_x``, ``shift_y`` (fractions
        of the output size), ``scale_x``, ``scale_y``, ``angle`` (radians),
        ``skew_x``, ``skew_y`` and ``flip`` (0 or 1).
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 10)

    def uniform(i: int, low: float, high: float) -> tf.Tensor:
        return tf.random.stateless_uniform([batch_size], seeds[i], low, high)

    def scale(i: int) -> tf.Tensor:
        factor = uniform(i, 1.0, params.max_scale)
        invert = uniform(i + 1, 0.0, 1.0) < 0.5
        return tf.where(invert, 1.0 / factor, factor)

    max_angle = math.radians(params.max_rotation_deg)
    return {
        "shift_x": uniform(0, -params.max_shift, params.max_shift),
        "shift_y": uniform(1, -params.max_shift, params.max_shift),
        "scale_x": scale(2),
        "scale_y": scale(4),
        "angle": uniform(6, -max_angle, max_angle),
        "skew_x": uniform(7, -params.max_skew, params.max_skew),
        "skew_y": uniform(8, -params.max_skew, params.max_skew),
        "flip": tf.cast(uniform(9, 0.0, 1.0) < params.flip_probability, tf.float32),
    }


def identity_params(batch_size: tf.Tensor | int) -> dict[str, tf.Tensor]:
    """Parameters that leave a face unchanged (besides resizing)."""
    zeros = tf.zeros([batch_size])
    ones = tf.ones([batch_size])
    return {
        "shift_x": zeros, "shift_y": zeros, "scale_x": ones, "scale_y": ones,
        "angle": zeros, "skew_x": zeros, "skew_y": zeros, "flip": zeros,
    }  # fmt: skip


def transform_matrices(
    p: dict[str, tf.Tensor], input_size: tf.Tensor, output_size: int
) -> tf.Tensor:
    """Build ``[batch, 8]`` projective transforms (output → input coordinates).

    The forward warp is ``flip → scale → skew → rotate`` about the image
    centre, then a shift; its inverse maps each output pixel to the input
    pixel it samples. The whole stored square maps onto the output square.
    """
    cos, sin = tf.cos(p["angle"]), tf.sin(p["angle"])
    fx = (1.0 - 2.0 * p["flip"]) * p["scale_x"]
    sy = p["scale_y"]
    # forward = R @ K @ diag(fx, sy), K = [[1, kx], [ky, 1]]
    k00, k01 = fx, p["skew_x"] * sy
    k10, k11 = p["skew_y"] * fx, sy
    a = cos * k00 - sin * k10
    b = cos * k01 - sin * k11
    c = sin * k00 + cos * k10
    d = sin * k01 + cos * k11
    det = a * d - b * c
    ratio = tf.cast(input_size, tf.float32) / float(output_size)
    # inverse, scaled from output pixels to input pixels
    i00, i01 = ratio * d / det, -ratio * b / det
    i10, i11 = -ratio * c / det, ratio * a / det
    c_out = (output_size - 1) / 2.0
    c_in = (tf.cast(input_size, tf.float32) - 1.0) / 2.0
    ox = c_out + p["shift_x"] * output_size
    oy = c_out + p["shift_y"] * output_size
    t0 = c_in - (i00 * ox + i01 * oy)
    t1 = c_in - (i10 * ox + i11 * oy)
    zeros = tf.zeros_like(a)
    return tf.stack([i00, i01, t0, i10, i11, t1, zeros, zeros], axis=1)


def warp(
    images: tf.Tensor, p: dict[str, tf.Tensor], output_size: int, dtype: tf.DType = tf.float32
) -> tf.Tensor:
    """Warp a ``[batch, S, S, C]`` batch to ``[batch, out, out, C]`` of ``dtype``.

    Bilinear sampling, reflected borders. With ``dtype=tf.uint8`` the op
    samples the 8-bit faces directly and truncates each result to an integer
    (1.3× faster on CPU than float32); the evaluation path uses float32.
    """
    images = tf.convert_to_tensor(images)
    transforms = transform_matrices(p, tf.shape(images)[1], output_size)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(images, dtype),
        transforms=transforms,
        output_shape=tf.constant([output_size, output_size], tf.int32),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def normalize(images: tf.Tensor) -> tf.Tensor:
    """Scale pixels as the paper does: ``(x - 127.5) / 127.5`` in float32."""
    return (tf.cast(images, tf.float32) - PIXEL_CENTER) / PIXEL_CENTER


def augment_batch(
    images: tf.Tensor,
    seed: tf.Tensor,
    output_size: int = 64,
    params: AugmentParams = PAPER_AUGMENTATION,
) -> tf.Tensor:
    """Randomly warp a batch (training path); returns normalized float32.

    uint8 faces are warped in uint8, the training pipeline's hot spot; the
    op truncates, so half a gray level is added back to centre the rounding
    error (±0.5 of 255) on zero; 255 stays 255.
    """
    p = sample_params(tf.shape(images)[0], seed, params)
    if images.dtype == tf.uint8:
        warped = tf.cast(warp(images, p, output_size, tf.uint8), tf.float32)
        return normalize(tf.minimum(warped + 0.5, 255.0))  # stays within [-1, 1]
    return normalize(warp(images, p, output_size))


def eval_batch(images: tf.Tensor, output_size: int = 64) -> tf.Tensor:
    """Resize a batch to the network input without augmentation; normalized."""
    return normalize(warp(images, identity_params(tf.shape(images)[0]), output_size))
