"""Tests of keras_au.export: in-graph preprocessing, SavedModel round trip, TFLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from keras_au import export, faces
from keras_au.model import AUNet

AUS = ["AU01", "AU06", "AU12", "AU25"]
THRESHOLDS = [0.3, 0.5, 0.45, 0.7]


def tiny_model(thresholds=THRESHOLDS) -> AUNet:
    keras.utils.set_random_seed(3)
    return AUNet(au_names=AUS, block_filters=((4,), (8,)), dense_units=(8,), thresholds=thresholds)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    tiny_model().save(path)
    return path


@pytest.fixture(scope="module")
def exported(model_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "tiny_export"
    assert export.main([str(model_file), str(out), "--tflite", "--verify-samples", "4"]) == 0
    return out


def test_gray_is_bit_exact_with_opencv():
    rng = np.random.default_rng(0)
    for shape in [(1, 37, 53, 3), (2, 5, 7, 4), (1, 64, 64, 3)]:
        rgb = rng.integers(0, 256, shape, dtype=np.uint8)
        got = np.asarray(export.gray_uint8(rgb))[..., 0]
        for g, image in zip(got, rgb, strict=True):
            bgr = image[..., [2, 1, 0]] if shape[-1] == 3 else image[..., [2, 1, 0, 3]]
            np.testing.assert_array_equal(g, faces.to_gray(np.ascontiguousarray(bgr)))
    gray = rng.integers(0, 256, (1, 9, 4, 1), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(export.gray_uint8(gray)), gray)


@pytest.mark.parametrize("h,w", [(37, 53), (53, 37), (10, 10), (1, 4)])
def test_pad_to_square_matches_crop_square(h, w):
    image = np.random.default_rng(h).integers(1, 256, (h, w), dtype=np.uint8)
    got = np.asarray(export.pad_to_square(image[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_array_equal(got, faces.crop_square(image, (0, 0, w, h)))


def test_export_writes_savedmodel_metadata_and_tflite(exported):
    for name in ("saved_model.pb", "assets.extra/keras_au.json", export.TFLITE_FILE):
        assert (exported / name).is_file(), name
    meta = export.read_metadata(exported)
    assert meta["au_names"] == AUS and meta["thresholds"] == THRESHOLDS
    assert meta["thresholds_source"] == "validation" and meta["input_size"] == 64
    assert meta["preprocessing"]["pixel_center"] == 127.5
    assert export.is_export_dir(exported)


def test_reload_in_a_fresh_tensorflow_only_process(exported, model_file, tmp_path):
    """The export runs with TensorFlow alone and matches the Keras model on odd-sized images."""
    rng = np.random.default_rng(7)
    images = {
        "gray": rng.integers(0, 256, (1, 37, 53, 1), dtype=np.uint8),
        "rgb": rng.integers(0, 256, (2, 120, 80, 3), dtype=np.uint8),  # a batch of two
        "rgba": rng.integers(0, 256, (1, 23, 61, 4), dtype=np.uint8),
    }
    faces64 = rng.uniform(0, 255, (3, 64, 64, 1)).astype(np.float32)
    np.savez(tmp_path / "in.npz", faces64=faces64, **images)
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        m = tf.saved_model.load({str(exported)!r})
        data = np.load("in.npz")
        out = {{k: m.serve(tf.constant(data[k]))["probabilities"].numpy() for k in ("gray", "rgb", "rgba")}}
        faces = m.serve_faces(tf.constant(data["faces64"]))
        out["faces"] = faces["probabilities"].numpy()
        out["faces_presence"] = faces["presence"].numpy()
        out["au12"] = faces["AU12"].numpy()
        np.savez("out.npz", **out)
        print(json.dumps({{
            "au_names": [n.decode() for n in m.au_names[0].numpy()],
            "thresholds": m.thresholds[0].numpy().tolist(),
            "metadata": json.loads(m.metadata_json[0].numpy().decode())["format"],
            "keras_au_imported": any(k.split(".")[0] == "keras_au" for k in sys.modules),
        }}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "-1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["keras_au_imported"] is False
    assert info["au_names"] == AUS and info["metadata"] == export.EXPORT_FORMAT
    np.testing.assert_allclose(info["thresholds"], THRESHOLDS, rtol=1e-6)

    model = export.load_keras_model(model_file)
    got = np.load(tmp_path / "out.npz")
    for key, batch in images.items():
        want = np.asarray(model(export.reference_faces(list(batch), 64, "rgb"), training=False))
        assert got[key].shape == (len(batch), len(AUS))
        np.testing.assert_allclose(got[key], want, atol=1e-5, rtol=0)
    want = np.asarray(model(np.asarray(export.normalize(faces64)), training=False))
    np.testing.assert_allclose(got["faces"], want, atol=1e-5, rtol=0)
    np.testing.assert_array_equal(got["faces_presence"], (want >= np.float32(THRESHOLDS)).astype(int))
    np.testing.assert_allclose(got["au12"], want[:, AUS.index("AU12")], atol=1e-5)


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
def test_tflite_matches(exported, model_file):
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_path=str(exported / export.TFLITE_FILE))
    faces64 = np.random.default_rng(1).uniform(0, 255, (5, 64, 64, 1)).astype(np.float32)
    got = runner.get_signature_runner("serve_faces")(faces=faces64)["probabilities"]
    model = export.load_keras_model(model_file)
    want = np.asarray(model(np.asarray(export.normalize(faces64)), training=False))
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


def test_predict_with_export_equals_predict_with_keras(exported, model_file):
    from keras_au.detector import Detector
    from keras_au.synth.generate import pretrain_example

    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(60, 200, (240, 320), dtype=np.uint8), (0, 0), 8)
    image[60:160, 100:200] = pretrain_example(0, 2, 100)["image"][:, :, 0]
    by_keras = Detector(model_file, detect_every=1).predict([image])
    by_export = Detector(exported, detect_every=1).predict([image])
    assert by_keras["success"].tolist() == [1]
    cols = [f"{a}_p" for a in AUS]
    np.testing.assert_allclose(by_export[cols].to_numpy(float), by_keras[cols].to_numpy(float),
                               atol=1e-5)  # fmt: skip


def test_failed_verification_leaves_nothing(model_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(export, "verify_export", lambda *a, **k: 0.01)
    out = tmp_path / "bad_export"
    assert export.main([str(model_file), str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "verification failed" in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_export_refuses_bad_model_and_existing_output(model_file, tmp_path, capsys):
    bogus = tmp_path / "notes.keras"
    bogus.write_text("not a model")
    assert export.main([str(bogus), str(tmp_path / "o1")]) == 2
    assert "cannot load" in capsys.readouterr().err
    assert export.main([str(tmp_path / "missing.keras"), str(tmp_path / "o2")]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    assert export.main([str(model_file), str(tmp_path / "taken")]) == 2
    assert "--overwrite" in capsys.readouterr().err
