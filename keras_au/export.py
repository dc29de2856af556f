"""Export a trained AUNet as a self-contained TensorFlow SavedModel (and TFLite).

``python -m keras_au.export MODEL.keras OUT [--tflite] [--verify-samples N]``

The SavedModel needs TensorFlow only (not keras_au, not Keras) to run::

    m = tf.saved_model.load("OUT")
    out = m.serve(images)           # uint8 [batch, H, W, C], C = 1 (gray), 3 (RGB), 4 (RGBA)
    out["AU12"]                     # float32 [batch] probability of AU12
    out["probabilities"]            # float32 [batch, n_aus], columns in m.au_names order
    out["presence"]                 # int32 [batch, n_aus], 1 where prob >= threshold
    m.serve_faces(faces)            # float32 [batch, 64, 64, 1], gray pixel values 0-255
    [n.decode() for n in m.au_names[0].numpy()], m.thresholds[0].numpy()

``serve`` reproduces the training preprocessing in-graph, exactly: grayscale
with OpenCV's ``COLOR_BGR2GRAY`` integer formula (``(9798 R + 19235 G + 3735 B
+ 2**14) >> 15``, bit-identical to ``cv2.cvtColor``), zero-pad to a square with
the image centred (as :func:`keras_au.faces.crop_square`), bilinear resize to
64×64 with half-pixel centres (the op :func:`keras_au.augment.eval_batch`
uses), then ``(x - 127.5) / 127.5``. Each image of a ``serve`` batch is taken
as one face crop; ``serve_faces`` takes faces already cropped, grayscaled and
resized to 64×64 (float, so that a resize does not have to be re-quantized).

AU names, thresholds (chosen on validation, when the model has them) and the
preprocessing constants travel in ``OUT/assets.extra/keras_au.json`` and as
variables on the loaded object (``au_names``, ``thresholds``,
``metadata_json``). Export reloads what it wrote and compares it with the
Keras model (max abs diff ≤ 1e-5); a mismatch fails the export and leaves no
output behind.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_au import __version__, aus, cli

EXPORT_FORMAT = "keras_au-export"
EXPORT_VERSION = 1
#: Metadata file, in the SavedModel's ``assets.extra`` folder.
METADATA_FILE = "keras_au.json"
METADATA_DIR = "assets.extra"
TFLITE_FILE = "model.tflite"
#: OpenCV 4.x ``COLOR_BGR2GRAY`` fixed-point weights (B, G, R) and shift; checked
#: bit-exact against ``cv2.cvtColor`` for all 2**24 colours.
GRAY_WEIGHTS_BGR: tuple[int, int, int] = (3735, 19235, 9798)
GRAY_SHIFT = 15
#: Largest allowed difference between the export and the Keras model.
MAX_ABS_DIFF = 1e-5
PROB_KEY, PRESENCE_KEY = "probabilities", "presence"


def gray_uint8(images: Any) -> Any:
    """Grayscale a ``uint8 [b, h, w, c]`` batch (c = 1, 3 RGB or 4 RGBA), in-graph.

    Uses OpenCV's integer formula, so the result equals ``cv2.cvtColor`` on the
    same pixels in BGR order. Returns ``uint8 [b, h, w, 1]``.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.uint8)
    channels = tf.shape(images)[-1]
    tf.debugging.assert_rank(images, 4, message="images must be [batch, height, width, channels]")
    check = tf.debugging.Assert(
        tf.reduce_any(tf.equal(channels, [1, 3, 4])),
        ["images need 1 (gray), 3 (RGB) or 4 (RGBA) channels, got", channels],
    )
    with tf.control_dependencies([check]):
        pixels = tf.cast(images, tf.int32)

    def from_color() -> tf.Tensor:
        b, g, r = GRAY_WEIGHTS_BGR
        weights = tf.constant([r, g, b], tf.int32)
        y = tf.reduce_sum(pixels[..., :3] * weights, axis=-1, keepdims=True)
        y = tf.bitwise.right_shift(y + (1 << (GRAY_SHIFT - 1)), GRAY_SHIFT)
        return tf.cast(y, tf.uint8)

    return tf.cond(channels >= 3, from_color, lambda: tf.cast(pixels[..., :1], tf.uint8))


def pad_to_square(images: Any) -> Any:
    """Zero-pad ``[b, h, w, c]`` to ``[b, s, s, c]``, ``s = max(h, w)``, image centred.

    The offsets are ``(s - h) // 2`` and ``(s - w) // 2``, as in
    :func:`keras_au.faces.crop_square`.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    side = tf.maximum(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    paddings = [[0, 0], [top, side - h - top], [left, side - w - left], [0, 0]]
    return tf.pad(images, paddings)


def resize_faces(squares: Any, size: int) -> Any:
    """Resize square gray faces ``[b, s, s, 1]`` to ``float32 [b, size, size, 1]`` (0-255).

    The evaluation path of :func:`keras_au.augment.eval_batch`, without
    the normalization.
    """
    import tensorflow as tf

    from keras_au import augment

    squares = tf.convert_to_tensor(squares)
    return augment.warp(squares, augment.identity_params(tf.shape(squares)[0]), size)


def normalize(faces: Any) -> Any:
    """``(x - 127.5) / 127.5``: the paper's pixel scaling (float32)."""
    from keras_au import augment

    return augment.normalize(faces)


def preprocess_images(images: Any, size: int) -> Any:
    """``uint8 [b, h, w, c]`` → normalized ``float32 [b, size, size, 1]``: the whole chain."""
    return normalize(resize_faces(pad_to_square(gray_uint8(images)), size))


def reference_faces(images: Sequence[np.ndarray], size: int, color_order: str = "rgb") -> np.ndarray:
    """The training path, independent of the export graph: ``crop_square`` + ``eval_batch``.

    Args:
        images: uint8 ``[h, w, c]`` or ``[h, w]`` arrays, each taken as one face.
        size: network input side.
        color_order: ``"rgb"`` or ``"bgr"`` for 3/4-channel images.

    Returns:
        Normalized ``float32 [n, size, size, 1]``.
    """
    from keras_au import augment, faces

    out = []
    for image in images:
        if image.ndim == 3 and image.shape[2] >= 3 and color_order == "rgb":
            image = np.ascontiguousarray(np.concatenate([image[..., 2::-1], image[..., 3:]], -1))
        square = faces.crop_square(image, (0, 0, image.shape[1], image.shape[0]))
        out.append(np.asarray(augment.eval_batch(square[None, :, :, None], size)))
    return np.concatenate(out)


def metadata(model: Any, source: str | None = None) -> dict[str, Any]:
    """The facts an export carries: AU names, thresholds, preprocessing, endpoints."""
    import tensorflow as tf

    from keras_au import augment

    names = list(model.au_names)
    chosen = bool(getattr(model, "thresholds", None))
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "keras_au_version": __version__,
        "tensorflow_version": tf.__version__,
        "source": source,
        "au_names": names,
        "facs_names": {a: aus.FACS_NAMES[a] for a in names},
        "thresholds": [float(t) for t in model.decision_thresholds()],
        "thresholds_source": "validation" if chosen else "default 0.5",
        "input_size": int(model.input_size),
        "model_config": model.get_config(),
        "preprocessing": {
            "channels": "1 = gray, 3 = RGB, 4 = RGBA (alpha ignored)",
            "grayscale": "OpenCV COLOR_BGR2GRAY: (9798 R + 19235 G + 3735 B + 16384) >> 15",
            "gray_weights_rgb": [GRAY_WEIGHTS_BGR[2], GRAY_WEIGHTS_BGR[1], GRAY_WEIGHTS_BGR[0]],
            "gray_shift": GRAY_SHIFT,
            "pad": "zero-pad to a square, image centred (offset (side - size) // 2)",
            "resize": "bilinear, half-pixel centres (ImageProjectiveTransformV3)",
            "normalize": "(x - pixel_center) / pixel_scale",
            "pixel_center": augment.PIXEL_CENTER,
            "pixel_scale": augment.PIXEL_CENTER,
        },
        "endpoints": {
            "serve": "images: uint8 [batch, H, W, C] whole face crops -> "
                     "{AUxx: [batch], probabilities: [batch, n], presence: [batch, n]}",
            "serve_faces": f"faces: float32 [batch, {model.input_size}, {model.input_size}, 1] "
                           "gray 0-255 -> same outputs",
        },
    }  # fmt: skip


def _outputs(probs: Any, names: Sequence[str], thresholds: Any) -> dict[str, Any]:
    import tensorflow as tf

    out = {name: probs[:, i] for i, name in enumerate(names)}
    out[PROB_KEY] = probs
    out[PRESENCE_KEY] = tf.cast(probs >= thresholds, tf.int32)
    return out


def build_archive(model: Any, meta: dict[str, Any]) -> Any:
    """A ``keras.export.ExportArchive`` with the ``serve`` and ``serve_faces`` endpoints."""
    import keras
    import tensorflow as tf

    size, names = int(model.input_size), list(model.au_names)
    au_var = tf.Variable(names, trainable=False, name="au_names")
    thr_var = tf.Variable(np.asarray(meta["thresholds"], np.float32), trainable=False,
                          name="thresholds")  # fmt: skip
    meta_var = tf.Variable(json.dumps(meta), trainable=False, name="metadata_json")

    def serve(images: tf.Tensor) -> dict[str, tf.Tensor]:
        probs = model(preprocess_images(images, size), training=False)
        return _outputs(tf.cast(probs, tf.float32), names, thr_var)

    def serve_faces(faces: tf.Tensor) -> dict[str, tf.Tensor]:
        probs = model(normalize(faces), training=False)
        return _outputs(tf.cast(probs, tf.float32), names, thr_var)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, [tf.TensorSpec([None, None, None, None], tf.uint8, "images")])
    archive.add_endpoint("serve_faces", serve_faces,
                         [tf.TensorSpec([None, size, size, 1], tf.float32, "faces")])  # fmt: skip
    archive.add_variable_collection("au_names", [au_var])
    archive.add_variable_collection("thresholds", [thr_var])
    archive.add_variable_collection("metadata_json", [meta_var])
    return archive


def sample_images(n: int, seed: int = 0) -> list[np.ndarray]:
    """Verification inputs: uint8 images of odd sizes, gray/RGB/RGBA, noise and smooth."""
    rng = np.random.default_rng(seed)
    shapes = [(37, 53, 1), (120, 80, 3), (64, 64, 1), (23, 17, 3), (90, 150, 4), (200, 199, 3)]
    out = []
    for i in range(max(n, 0)):
        h, w, c = shapes[i % len(shapes)]
        image = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        if i % 2:  # smooth gradients, like faces, besides noise
            yy, xx = np.mgrid[:h, :w]
            image = ((image // 4) + (96 + 80 * np.sin(xx / 7 + yy / 11))[..., None]).astype(np.uint8)
        out.append(image)
    return out


def verify_export(out: str | os.PathLike, model: Any, samples: int = 6, seed: int = 0) -> float:
    """Reload an export with plain TF and return its max abs diff from ``model``.

    Compares ``serve`` (one call per sample image) and ``serve_faces`` (one
    batch) with the Keras model on the same preprocessing.
    """
    import tensorflow as tf

    loaded = tf.saved_model.load(os.fspath(out))
    size, diff = int(model.input_size), 0.0
    images = sample_images(samples, seed)
    for image in images:
        got = loaded.serve(tf.constant(image[None]))[PROB_KEY].numpy()
        want = np.asarray(model(reference_faces([image], size), training=False))
        diff = max(diff, float(np.max(np.abs(got - want))))
    faces = np.random.default_rng(seed + 1).uniform(0, 255, (max(samples, 1), size, size, 1))
    faces = faces.astype(np.float32)
    got = loaded.serve_faces(tf.constant(faces))[PROB_KEY].numpy()
    want = np.asarray(model(np.asarray(normalize(faces)), training=False))
    return max(diff, float(np.max(np.abs(got - want))))


def write_tflite(export_dir: str | os.PathLike, target: str | os.PathLike) -> None:
    """Convert the ``serve_faces`` endpoint to a float32 TFLite model at ``target``."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(os.fspath(export_dir), ["serve_faces"])
    Path(target).write_bytes(converter.convert())


def verify_tflite(path: str | os.PathLike, model: Any, samples: int = 6, seed: int = 0) -> float:
    """Max abs diff between the TFLite ``serve_faces`` and ``model`` on one batch."""
    import tensorflow as tf

    size = int(model.input_size)
    faces = np.random.default_rng(seed + 2).uniform(0, 255, (max(samples, 1), size, size, 1))
    faces = faces.astype(np.float32)
    with warnings.catch_warnings():  # tf.lite.Interpreter warns it moves to ai_edge_litert
        warnings.simplefilter("ignore", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=os.fspath(path))
    got = interpreter.get_signature_runner("serve_faces")(faces=faces)[PROB_KEY]
    want = np.asarray(model(np.asarray(normalize(faces)), training=False))
    return float(np.max(np.abs(got - want)))


def load_keras_model(path: str | os.PathLike) -> Any:
    """Load a ``.keras`` AUNet file (safe mode), with a clear error for anything else.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: when it is not a loadable ``.keras`` AU model.
    """
    import keras

    import keras_au.model  # noqa: F401  (registers AUNet)

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as err:  # Keras raises many types for a bad file
        raise ValueError(f"cannot load {path} as a Keras model: {err}") from err
    if not hasattr(model, "au_names") or not hasattr(model, "decision_thresholds"):
        raise ValueError(f"{path} is a Keras model but not a keras_au AUNet (no AU names)")
    return model


def export_model(model_path: str | os.PathLike, out: str | os.PathLike, tflite: bool = False,
                 verify_samples: int = 6, overwrite: bool = False) -> dict[str, Any]:  # fmt: skip
    """Export a ``.keras`` AUNet to ``out`` and verify it.

    Writes into a temporary folder beside ``out`` and moves it into place only
    once verified, so a failed export leaves nothing behind.

    Args:
        model_path: the ``.keras`` file.
        out: the SavedModel folder to create.
        tflite: also write ``out/model.tflite`` (the ``serve_faces`` endpoint).
        verify_samples: number of sample images to verify with (0 skips the
            ``serve`` checks but still runs one ``serve_faces`` batch).
        overwrite: replace an existing ``out``.

    Returns:
        A report: output path, AU names, thresholds, max abs diffs.

    Raises:
        ValueError: for a bad model, an existing ``out`` or a failed verification.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ValueError(f"{out} already exists; pass --overwrite to replace it")
    model = load_keras_model(model_path)
    meta = metadata(model, source=Path(model_path).name)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private
    try:
        build_archive(model, meta).write_out(os.fspath(tmp), verbose=False)
        (tmp / METADATA_DIR).mkdir(exist_ok=True)
        (tmp / METADATA_DIR / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        diff = verify_export(tmp, model, verify_samples)
        report: dict[str, Any] = {"export": str(out), "au_names": meta["au_names"],
                                  "thresholds": meta["thresholds"], "max_abs_diff": diff}  # fmt: skip
        if not diff <= MAX_ABS_DIFF:
            raise ValueError(f"export verification failed: max abs diff {diff:.3g} from the Keras "
                             f"model exceeds {MAX_ABS_DIFF:g}; nothing written")  # fmt: skip
        if tflite:
            write_tflite(tmp, tmp / TFLITE_FILE)
            report["tflite_max_abs_diff"] = lite = verify_tflite(tmp / TFLITE_FILE, model,
                                                                 verify_samples)  # fmt: skip
            if not lite <= MAX_ABS_DIFF:
                raise ValueError(f"TFLite verification failed: max abs diff {lite:.3g} exceeds "
                                 f"{MAX_ABS_DIFF:g}; nothing written")  # fmt: skip
            report["tflite"] = str(out / TFLITE_FILE)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report


def is_export_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder holding a SavedModel written by this module."""
    path = Path(path)
    return (path / "saved_model.pb").is_file() and (path / METADATA_DIR / METADATA_FILE).is_file()


def read_metadata(export_dir: str | os.PathLike) -> dict[str, Any]:
    """The ``keras_au.json`` of an export (plain JSON, no TensorFlow needed).

    Raises:
        ValueError: when ``export_dir`` is not a keras_au export.
    """
    path = Path(export_dir) / METADATA_DIR / METADATA_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{export_dir} is not a keras_au export (cannot read {path}: {err})") from err
    if meta.get("format") != EXPORT_FORMAT:
        raise ValueError(f"{path} is not keras_au export metadata")
    return meta


def main(argv: list[str] | None = None) -> int:
    """``python -m keras_au.export MODEL OUT [--tflite] [--verify-samples N] [--overwrite]``."""
    parser = argparse.ArgumentParser(
        prog="python -m keras_au.export",
        description="Export a trained .keras AU model as a TensorFlow SavedModel that does its "
                    "own preprocessing (endpoints serve and serve_faces), verified against Keras.",
    )  # fmt: skip
    parser.add_argument("model", help="trained model (.keras)")
    parser.add_argument("out", help="SavedModel folder to write")
    parser.add_argument("--tflite", action="store_true",
                        help=f"also write OUT/{TFLITE_FILE} (the serve_faces endpoint)")
    parser.add_argument("--verify-samples", type=int, default=6, metavar="N",
                        help="sample images compared with the Keras model (default: 6)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    args = parser.parse_args(argv)

    def run() -> int:
        report = export_model(args.model, args.out, tflite=args.tflite,
                              verify_samples=args.verify_samples, overwrite=args.overwrite)
        print(json.dumps(report, indent=2))
        return 0

    return cli.run(run, "keras_au.export")


if __name__ == "__main__":
    raise SystemExit(main())
