"""Tests of keras_au.faces on the astronaut photo that scikit-image ships (offline)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from keras_au import faces


@pytest.fixture(scope="module")
def astronaut(astronaut_file) -> np.ndarray:
    return faces.read_image(astronaut_file)


@pytest.fixture(scope="module")
def ssd() -> faces.SsdDetector:
    return faces.make_detector("ssd")


def test_ssd_finds_the_face_in_any_format(astronaut, ssd):
    (face,) = ssd.detect(astronaut)
    assert face.confidence > 0.99
    # the face spans roughly x 180-270, y 60-175 in this photo
    assert 160 < face.left < 200 and 250 < face.right < 290
    assert 40 < face.top < 80 and 160 < face.bottom < 195
    for variant in (faces.to_gray(astronaut), faces.to_gray(astronaut)[:, :, None],
                    cv2.cvtColor(astronaut, cv2.COLOR_BGR2BGRA), cv2.resize(astronaut, (200, 150))):  # fmt: skip
        found = ssd.detect(variant)
        assert len(found) == 1 and found[0].confidence > 0.9


def test_ssd_finds_nothing_in_a_blank_or_noise_image(ssd):
    assert ssd.detect(np.zeros((240, 320, 3), np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (240, 320), dtype=np.uint8)
    assert ssd.detect(noise) == []


def test_haar_finds_the_face(astronaut):
    found = faces.make_detector("haar").detect(astronaut)
    face = faces.largest_face(found)
    assert face is not None and 160 < face.left < 200 and 40 < face.top < 90


def test_crop_square_pads_and_resizes():
    image = np.full((100, 200, 3), 200, np.uint8)
    out = faces.crop_square(image, (20, 10, 80, 90))  # 60 wide, 80 high
    assert out.shape == (80, 80) and out.dtype == np.uint8
    assert (out[:, :10] == 0).all() and (out[:, 70:] == 0).all() and (out[:, 10:70] > 0).all()
    box = faces.FaceBox(150, -20, 260, 40, 0.9)  # clipped to x 150-200, y 0-40
    out = faces.crop_square(image, box, size=32)
    assert out.shape == (32, 32)
    assert faces.crop_square(np.zeros((10, 10), np.uint8), (0, 0, 10, 10), size=20).shape == (
        20,
        20,
    )
    with pytest.raises(ValueError, match="outside"):
        faces.crop_square(image, (300, 300, 400, 400))


def test_crop_of_detected_face_is_still_a_face(astronaut, ssd):
    face = faces.largest_face(ssd.detect(astronaut))
    crop = faces.crop_square(astronaut, face, size=96)
    assert crop.shape == (96, 96)
    assert ssd.detect(cv2.copyMakeBorder(crop, 48, 48, 48, 48, cv2.BORDER_CONSTANT))


def test_largest_face_and_helpers():
    small, big = faces.FaceBox(0, 0, 10, 10, 0.99), faces.FaceBox(0, 0, 20, 20, 0.6)
    assert faces.largest_face([small, big]) == big
    assert faces.largest_face([]) is None
    assert big.clip(15, 12).as_tuple() == (0, 0, 15, 12)
    with pytest.raises(ValueError, match="uint8"):
        faces.to_gray(np.zeros((4, 4), np.float32))


def test_make_detector_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown face detector"):
        faces.make_detector("mtcnn")
    with pytest.raises(FileNotFoundError, match="ONNX"):
        faces.make_detector("yunet")
    with pytest.raises(FileNotFoundError, match="not found"):
        faces.make_detector("yunet", tmp_path / "missing.onnx")
    with pytest.raises(FileNotFoundError, match="res10 SSD files not found"):
        faces.make_detector("ssd", tmp_path)
    proto, weights = faces.bundled_ssd_files()
    assert proto.is_file() and weights.stat().st_size > 10_000_000


def test_read_image_errors(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot decode image"):
        faces.read_image(bad)
