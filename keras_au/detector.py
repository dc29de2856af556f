"""AU detection on images, folders and videos: the Python API behind ``keras_au.predict``.

>>> det = keras_au.Detector("models/fold1/model.keras")          # or an export folder
>>> df = det.predict(["photo.jpg", "clips/", "interview.mp4"])    # pandas DataFrame
>>> det.skipped                                                  # inputs left out, and why

One row per face and frame (OpenFace conventions; see :data:`BASE_COLUMNS`),
``AUxx_c`` presence at the model's thresholds and ``AUxx_p`` probabilities.
A frame (or image) without a face still gets one row, with ``success`` 0,
``face_id`` -1, ``AUxx_c`` 0 and empty box and probability columns. Frames are
1-based and ``timestamp`` is ``(frame - 1) / fps`` as in OpenFace; an image is
frame 1 at time 0. On video the face detector runs on every ``detect_every``-th
frame and boxes are carried in between (``detected`` 0), so a face that
appears or leaves between two detection frames shows up late or lingers;
``detect_every=1`` makes ``success`` exact per frame.

Faces are cropped as the training data was (:func:`keras_au.faces.crop_square`:
crop, grayscale, zero-pad to square), resized with the training's bilinear
op and scored in batches across frames and images.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from keras_au import export, faces, video
from keras_au.tracking import IouTracker
from keras_au.video import InputError, MediaInput, Skip

#: Columns before the AU columns. ``face_x``/``face_y`` is the top-left corner
#: of the face box, in pixels of the input frame; ``detected`` is 1 when the
#: face detector ran on this frame, 0 when its boxes (or their absence) were
#: carried from the last detection frame (``detect_every`` > 1).
BASE_COLUMNS: tuple[str, ...] = (
    "file", "frame", "face_id", "timestamp", "confidence", "success",
    "face_x", "face_y", "face_width", "face_height", "detected",
)  # fmt: skip
_BOX = ("face_x", "face_y", "face_width", "face_height")


def columns(au_names: Sequence[str]) -> list[str]:
    """All output columns: :data:`BASE_COLUMNS`, ``AUxx_c`` then ``AUxx_p`` per AU."""
    return [*BASE_COLUMNS, *(f"{a}_c" for a in au_names), *(f"{a}_p" for a in au_names)]


class AUModel:
    """The AU network: a ``.keras`` file, a keras_au export folder or an in-memory AUNet.

    Attributes:
        kind: ``"keras"`` or ``"export"``.
        au_names: the model's AUs, in output order.
        thresholds: per-AU decision thresholds.
        input_size: side of the square network input.

    Raises:
        FileNotFoundError: when ``model`` is a path that does not exist.
        ValueError: when it is neither a ``.keras`` AU model nor a keras_au export.
    """

    def __init__(self, model: str | os.PathLike | Any) -> None:
        import tensorflow as tf

        if not isinstance(model, (str, os.PathLike)):  # an AUNet object
            self.path = None
            self._keras(model)
            return
        self.path = path = Path(model)
        if path.is_dir():
            if not export.is_export_dir(path):
                what = ("a SavedModel without keras_au metadata" if (path / "saved_model.pb")
                        .is_file() else "a folder")  # fmt: skip
                raise ValueError(f"model {path} is {what}, not a keras_au export "
                                 "(python -m keras_au.export) nor a .keras file")  # fmt: skip
            meta = export.read_metadata(path)
            self.kind, self.au_names = "export", list(meta["au_names"])
            self.thresholds = np.asarray(meta["thresholds"], np.float32)
            self.input_size = int(meta["input_size"])
            loaded = tf.saved_model.load(os.fspath(path))
            self._loaded = loaded  # keep the object alive
            self._fn: Callable[[Any], Any] = lambda x: loaded.serve_faces(x)[export.PROB_KEY]
        elif path.is_file():
            if path.suffix.lower() != ".keras":
                raise ValueError(f"model {path} is neither a .keras file nor a keras_au "
                                 "export folder")  # fmt: skip
            self._keras(export.load_keras_model(path))
        else:
            raise FileNotFoundError(f"model not found: {path}")

    def _keras(self, model: Any) -> None:
        import tensorflow as tf

        if not hasattr(model, "au_names") or not hasattr(model, "decision_thresholds"):
            raise ValueError(f"expected a keras_au AUNet or a model path, got {type(model).__name__}")
        self.kind, self.au_names = "keras", list(model.au_names)
        self.thresholds = np.asarray(model.decision_thresholds(), np.float32)
        self.input_size = int(model.input_size)
        spec = tf.TensorSpec([None, self.input_size, self.input_size, 1], tf.float32)
        self._fn = tf.function(lambda x: model(export.normalize(x), training=False),
                               input_signature=[spec])  # fmt: skip

    def score(self, faces_0_255: np.ndarray) -> np.ndarray:
        """AU probabilities ``[n, n_aus]`` of resized faces ``float32 [n, s, s, 1]`` (0-255)."""
        if len(faces_0_255) == 0:
            return np.zeros((0, len(self.au_names)), np.float32)
        return np.asarray(self._fn(np.asarray(faces_0_255, np.float32)), np.float32)


@functools.cache
def _resizer(size: int) -> Callable[[Any], Any]:
    import tensorflow as tf

    spec = tf.TensorSpec([None, None, None, 1], tf.uint8)
    return tf.function(lambda x: export.resize_faces(x, size), input_signature=[spec])


def resize_squares(squares: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Resize square gray uint8 faces to ``float32 [n, size, size, 1]`` (0-255), like training.

    Faces of equal side are resized in one call.
    """
    out = np.zeros((len(squares), size, size, 1), np.float32)
    by_side: dict[int, list[int]] = {}
    for i, sq in enumerate(squares):
        by_side.setdefault(sq.shape[0], []).append(i)
    for idx in by_side.values():
        batch = np.stack([squares[i] for i in idx])[..., None]
        out[idx] = np.asarray(_resizer(size)(batch))
    return out


@dataclass
class _Frame:
    base: dict[str, Any]
    boxes: list[tuple[int, faces.FaceBox]]
    squares: list[np.ndarray]
    image: np.ndarray | None = None
    sink: Callable[[np.ndarray], None] | None = None


class Detector:
    """Detect faces and their action units in images, folders and videos.

    Args:
        model: a ``.keras`` AU model, a keras_au export folder or an AUNet object.
        detector: ``"ssd"`` (the paper's, default), ``"haar"``, ``"yunet"``, or
            any object with ``detect(image) -> list[FaceBox]``.
        detector_model: model file/folder for the face detector (see
            :func:`keras_au.faces.make_detector`).
        min_confidence: face detector score threshold (default: the detector's).
        detect_every: on video, run the face detector on every N-th frame and
            carry the tracked boxes in between (1 = every frame).
        batch_size: faces per AU-model call.
        iou_threshold: least box overlap for a detection to keep a face's id.
        max_pixels: larger images are refused.
        progress: show a progress bar (tqdm) for videos.
    """

    def __init__(self, model: str | os.PathLike | Any, detector: str | Any = "ssd", *,
                 detector_model: str | os.PathLike | None = None,
                 min_confidence: float | None = None, detect_every: int = 5, batch_size: int = 32,
                 iou_threshold: float = 0.3, max_pixels: int = video.DEFAULT_MAX_PIXELS,
                 progress: bool = False) -> None:  # fmt: skip
        if detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {detect_every}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = AUModel(model)
        if isinstance(detector, str):
            detector = faces.make_detector(detector, detector_model, min_confidence)
        self.face_detector = detector
        self.detect_every, self.batch_size = int(detect_every), int(batch_size)
        self.iou_threshold, self.max_pixels = float(iou_threshold), int(max_pixels)
        self.progress = progress
        self.skipped: list[Skip] = []
        self.processed: list[str] = []

    @property
    def au_names(self) -> list[str]:
        """The model's AUs."""
        return self.model.au_names

    @property
    def columns(self) -> list[str]:
        """Output columns."""
        return columns(self.au_names)

    def predict(self, inputs: Any, *, color_order: str = "bgr",
                overlay_dir: str | os.PathLike | None = None) -> pd.DataFrame:  # fmt: skip
        """Detect faces and AUs in images, folders and videos.

        Args:
            inputs: a path, a uint8 image array, or a list of them. Paths may be
                image files, folders (searched recursively) or videos.
            color_order: channel order of 3/4-channel arrays, ``"bgr"`` (OpenCV)
                or ``"rgb"``; files are always read correctly.
            overlay_dir: write annotated copies (images, ``.mp4`` videos) here.

        Returns:
            One row per face and frame; see :func:`columns`. Inputs that could
            not be processed are listed in :attr:`skipped`.
        """
        return self.to_frame(self.iter_rows(inputs, color_order=color_order,
                                            overlay_dir=overlay_dir))  # fmt: skip

    def predict_video(self, path: str | os.PathLike, *,
                      overlay_dir: str | os.PathLike | None = None) -> pd.DataFrame:  # fmt: skip
        """Rows of one video: at least one per frame, ``face_id`` kept across frames.

        Raises:
            ValueError: when the video cannot be read at all.
        """
        df = self.predict([path], overlay_dir=overlay_dir)
        if not self.processed:
            reason = self.skipped[0].reason if self.skipped else "unreadable"
            raise ValueError(f"{os.fspath(path)}: {reason}")
        return df

    def to_frame(self, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
        """Collect rows into a DataFrame with the output columns (box columns as ``Int64``)."""
        df = pd.DataFrame(list(rows), columns=self.columns)
        return df.astype({c: "Int64" for c in _BOX})

    def iter_rows(self, inputs: Any, *, color_order: str = "bgr",
                  overlay_dir: str | os.PathLike | None = None, cameras: Sequence[int] = (),
                  max_frames: int | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Stream output rows, input by input (what ``predict`` collects).

        Args:
            inputs: as for :meth:`predict`.
            color_order: as for :meth:`predict`.
            overlay_dir: as for :meth:`predict`.
            cameras: camera indices to read after the inputs.
            max_frames: stop each video/camera after this many frames.
        """
        if color_order not in ("bgr", "rgb"):
            raise ValueError(f"color_order must be 'bgr' or 'rgb', got {color_order!r}")
        self.skipped, self.processed = [], []
        items = [inputs] if isinstance(inputs, (str, os.PathLike, np.ndarray)) else list(inputs)
        media: list[MediaInput | tuple[str, np.ndarray]] = []
        for i, item in enumerate(items):
            if isinstance(item, np.ndarray):
                media.append((f"array[{i}]", _to_bgr(item, color_order)))
            else:
                media += video.expand_inputs([item], self.skipped)
        media += [MediaInput(f"camera{c}", None, "camera", c) for c in cameras]
        root = Path(overlay_dir) if overlay_dir is not None else None
        stills = _Batcher(self)
        for item in media:
            name = item[0] if isinstance(item, tuple) else item.name
            try:
                if isinstance(item, tuple):
                    overlay = root / f"{name.replace('[', '_').replace(']', '')}.png" if root else None
                    yield from stills.add(self._still(name, item[1], overlay))
                elif item.kind == "image" or (item.kind == "unknown" and _is_image(item)):
                    overlay = video.overlay_path(root, item.rel, "image") if root else None
                    image = video.read_image(item, self.max_pixels)
                    yield from stills.add(self._still(name, image, overlay))
                else:
                    yield from stills.flush()  # keep the rows in input order
                    yield from self._video_rows(item, root, max_frames)
                self.processed.append(name)
            except (InputError, ValueError, OSError, cv2.error) as err:
                self.skipped.append(Skip(name, str(err).strip() or type(err).__name__))
        yield from stills.flush()

    def _still(self, name: str, image: np.ndarray, overlay: Path | None) -> _Frame:
        # ids of faces in a still: left to right (then top to bottom)
        found = list(enumerate(sorted(self.face_detector.detect(image),
                                      key=lambda b: (b.left, b.top))))  # fmt: skip
        sink = (lambda out: video.write_image(overlay, out)) if overlay is not None else None
        base = {"file": name, "frame": 1, "timestamp": 0.0, "detected": 1}
        return self._frame(base, image, found, sink)

    def _frame(self, base: dict[str, Any], image: np.ndarray,
               found: list[tuple[int, faces.FaceBox]], sink: Callable | None) -> _Frame:  # fmt: skip
        kept, squares = [], []
        for face_id, box in found:
            try:
                squares.append(faces.crop_square(image, box))
            except ValueError:  # a box outside the frame: nothing to score
                continue
            kept.append((face_id, box))
        return _Frame(base, kept, squares, image if sink else None, sink)

    def _video_rows(self, item: MediaInput, root: Path | None,
                    max_frames: int | None) -> Iterator[dict[str, Any]]:  # fmt: skip
        stream = video.open_video(item)
        tracker = IouTracker(self.iou_threshold, max_missed=max(3 * self.detect_every, 10))
        where = video.overlay_path(root, item.rel or item.name, "video") if root else None
        sink = video.OverlayVideo(where, stream.fps) if where else None
        batcher = _Batcher(self)
        bar = video.progress_bar(self.progress, stream.frame_count, item.name)
        try:
            for index, stamp, frame in stream.frames():
                detect = index % self.detect_every == 0
                if detect:
                    visible = tracker.update(self.face_detector.detect(frame), index)
                else:
                    visible = tracker.visible()
                base = {"file": item.name, "frame": index + 1, "timestamp": stamp,
                        "detected": int(detect)}  # fmt: skip
                yield from batcher.add(self._frame(base, frame, visible,
                                                   sink.write if sink else None))  # fmt: skip
                bar.update(1)
                if max_frames is not None and stream.frames_read >= max_frames:
                    break
            yield from batcher.flush()
        except KeyboardInterrupt:
            if item.kind != "camera":
                raise
            yield from batcher.flush()
        finally:
            stream.close()
            bar.close()
            if sink is not None:
                sink.close()
        n, announced = stream.frames_read, stream.frame_count
        if n == 0:
            raise InputError("video has no readable frames" if announced == 0 else
                             f"no frame could be decoded ({announced} announced)")  # fmt: skip
        if announced and n < announced and (max_frames is None or n < max_frames):
            self.skipped.append(Skip(item.name, f"truncated: read {n} of the {announced} frames "
                                     "the file announces; rows written for those", n))  # fmt: skip

    def _rows(self, frame: _Frame, probs: np.ndarray) -> list[dict[str, Any]]:
        names, thr = self.au_names, self.model.thresholds
        if not frame.boxes:
            row = {**frame.base, "face_id": -1, "confidence": 0.0, "success": 0}
            row.update({f"{a}_c": 0 for a in names})
            return [row]
        rows = []
        for (face_id, box), p in zip(frame.boxes, probs, strict=True):
            row = {**frame.base, "face_id": face_id, "confidence": float(box.confidence),
                   "success": 1, "face_x": box.left, "face_y": box.top,
                   "face_width": box.width, "face_height": box.height}  # fmt: skip
            row.update({f"{a}_c": int(v >= t) for a, v, t in zip(names, p, thr, strict=True)})
            row.update({f"{a}_p": float(v) for a, v in zip(names, p, strict=True)})
            rows.append(row)
        return rows


class _Batcher:
    """Collects frames until a batch of faces is full, then scores and emits their rows."""

    def __init__(self, det: Detector) -> None:
        self.det, self.pending, self.n_faces = det, [], 0

    def add(self, frame: _Frame) -> Iterator[dict[str, Any]]:
        self.pending.append(frame)
        self.n_faces += len(frame.squares)
        if self.n_faces >= self.det.batch_size or len(self.pending) >= max(self.det.batch_size, 64):
            yield from self.flush()

    def flush(self) -> Iterator[dict[str, Any]]:
        pending, self.pending, self.n_faces = self.pending, [], 0
        if not pending:
            return
        squares = [s for f in pending for s in f.squares]
        model, size, bs = self.det.model, self.det.model.input_size, self.det.batch_size
        inputs = resize_squares(squares, size)
        probs = np.concatenate([model.score(inputs[i:i + bs]) for i in range(0, len(inputs), bs)]
                               or [np.zeros((0, len(model.au_names)), np.float32)])  # fmt: skip
        start = 0
        for frame in pending:
            p = probs[start:start + len(frame.squares)]
            start += len(frame.squares)
            rows = self.det._rows(frame, p)
            if frame.sink is not None and frame.image is not None:
                active = [[a for a in self.det.au_names if r.get(f"{a}_c")] for r in rows]
                shown = [(fid, box, act) for (fid, box), act in zip(frame.boxes, active, strict=False)]
                frame.sink(video.draw_faces(frame.image, shown))
            yield from rows


def _is_image(item: MediaInput) -> bool:
    """Whether a file with an unknown extension is an image (else it is tried as a video)."""
    return video.image_size(item.path) is not None


def _to_bgr(image: np.ndarray, color_order: str) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"image arrays must be uint8, got {image.dtype}")
    if color_order == "rgb" and image.ndim == 3 and image.shape[2] in (3, 4):
        order = [2, 1, 0, 3][: image.shape[2]]
        image = np.ascontiguousarray(image[..., order])
    return image
