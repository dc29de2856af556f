"""Media inputs for prediction: image files, folders, videos, cameras; overlays.

Inputs are classified by file extension; a file with an unknown extension is
tried as an image, then as a video. Folders are searched recursively (sorted,
hidden files skipped) for files with image or video extensions. Every problem
is an :class:`InputError` with a message naming the input, so that the caller
can report it and go on with the other inputs.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import cv2
import numpy as np

from keras_au import faces

IMAGE_EXTENSIONS = frozenset(
    ".jpg .jpeg .jpe .png .bmp .dib .tif .tiff .webp .pgm .ppm .pbm .pnm .jp2 .sr .ras".split()
)
VIDEO_EXTENSIONS = frozenset(
    ".avi .mp4 .m4v .mov .mkv .webm .mpg .mpeg .wmv .flv .3gp .ogv .mts .m2ts .ts .gif".split()
)
#: Images with more pixels than this are refused (decompression bombs, scans).
DEFAULT_MAX_PIXELS = 64_000_000


class InputError(ValueError):
    """One input that cannot be processed; the message says which and why."""


@dataclass(frozen=True)
class MediaInput:
    """One file (or camera) to process.

    Attributes:
        name: the name written to the ``file`` column.
        path: the file, or ``None`` for a camera.
        kind: ``"image"``, ``"video"``, ``"camera"`` or ``"unknown"``.
        camera: the camera index when ``kind == "camera"``.
        rel: short relative name for overlay files (file name, or folder
            name + path inside the folder).
    """

    name: str
    path: Path | None
    kind: str
    camera: int | None = None
    rel: str = ""


@dataclass
class Skip:
    """An input left out (or cut short), with the reason."""

    input: str
    reason: str
    frames_processed: int = 0


def kind_of(path: Path) -> str:
    """``"image"``, ``"video"`` or ``"unknown"`` from the file extension."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    return "unknown"


def expand_inputs(inputs: Sequence[str | os.PathLike], skipped: list[Skip]) -> list[MediaInput]:
    """Turn paths (files and folders) into media inputs; problems go to ``skipped``."""
    out: list[MediaInput] = []
    for item in inputs:
        path, name = Path(item), os.fspath(item)
        if path.is_dir():
            found = [
                p for p in sorted(path.rglob("*"))
                if p.is_file() and kind_of(p) != "unknown"
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]  # fmt: skip
            if not found:
                skipped.append(Skip(name, "folder holds no images or videos"))
            top = path.resolve().name or "input"
            out += [MediaInput(os.path.join(name, os.fspath(p.relative_to(path))), p, kind_of(p),
                               rel=os.path.join(top, os.fspath(p.relative_to(path))))
                    for p in found]  # fmt: skip
        elif path.is_file():
            out.append(MediaInput(name, path, kind_of(path), rel=path.name))
        elif path.exists():
            skipped.append(Skip(name, "not a regular file or folder"))
        else:
            skipped.append(Skip(name, "no such file or folder"))
    return out


def image_size(path: Path) -> tuple[int, int] | None:
    """``(width, height)`` from the file header, without decoding; ``None`` if unknown."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return None
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we apply our own limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return im.size
    except Exception:  # not an image Pillow knows: let OpenCV try
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def read_image(media: MediaInput, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode an image input, refusing images larger than ``max_pixels``.

    Raises:
        InputError: for an unreadable, non-image or too large file.
    """
    if media.path is None:
        raise InputError("not a file")
    size = image_size(media.path)
    if size is not None and size[0] * size[1] > max_pixels:
        raise InputError(f"image too large: {size[0]}×{size[1]} pixels (limit {max_pixels:,}; "
                         "see --max-pixels)")  # fmt: skip
    try:
        image = faces.read_image(media.path)
    except (ValueError, OSError, cv2.error) as err:
        raise InputError(f"cannot read as an image: {err}") from None
    if image.shape[0] * image.shape[1] > max_pixels:
        raise InputError(f"image too large: {image.shape[1]}×{image.shape[0]} pixels "
                         f"(limit {max_pixels:,}; see --max-pixels)")  # fmt: skip
    return image


@dataclass
class VideoStream:
    """An opened video file or camera.

    Attributes:
        capture: the OpenCV capture.
        fps: frames per second (0 when unknown).
        frame_count: frames the container announces (0 when unknown: cameras).
        width: frame width in pixels.
        height: frame height in pixels.
    """

    capture: cv2.VideoCapture
    fps: float
    frame_count: int
    width: int
    height: int
    frames_read: int = field(default=0)

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """Yield ``(index, timestamp_seconds, frame)`` until the stream ends."""
        while True:
            ok, frame = self.capture.read()
            if not ok or frame is None:
                return
            index = self.frames_read
            self.frames_read += 1
            if self.fps > 0:
                stamp = index / self.fps
            else:
                stamp = max(float(self.capture.get(cv2.CAP_PROP_POS_MSEC)), 0.0) / 1000.0
            yield index, stamp, frame

    def close(self) -> None:
        """Release the capture."""
        self.capture.release()


def open_video(media: MediaInput) -> VideoStream:
    """Open a video file or camera.

    Raises:
        InputError: when OpenCV cannot open it.
    """
    source: int | str = media.camera if media.camera is not None else os.fspath(media.path)
    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        cap.release()
        what = "camera" if media.camera is not None else "file as a video or image"
        raise InputError(f"OpenCV cannot open this {what}")
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if media.camera is None else 0
    return VideoStream(cap, fps if np.isfinite(fps) and fps < 1000 else 0.0, max(count, 0),
                       int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                       int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))  # fmt: skip


def overlay_path(root: Path, name: str, kind: str) -> Path:
    """Where the overlay of an input goes under ``root`` (``name``: its relative name)."""
    parts = [p for p in PurePath(name).parts if p not in ("..", ".") and p != PurePath(name).anchor]
    rel = Path(*parts) if parts else Path("input")
    if kind == "image":
        keep = rel.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp")
        return root / (rel if keep else rel.with_suffix(rel.suffix + ".png"))
    return root / rel.with_suffix(rel.suffix + ".overlay.mp4")


_COLORS = [(0, 200, 255), (255, 120, 0), (0, 220, 0), (220, 0, 220), (255, 255, 0), (0, 0, 255)]


def draw_faces(image: np.ndarray, faces_rows: Sequence[tuple[int, faces.FaceBox, Sequence[str]]]
               ) -> np.ndarray:  # fmt: skip
    """Draw boxes, ids and active AUs on a BGR copy of ``image``.

    Args:
        image: the frame (gray or BGR).
        faces_rows: ``(face_id, box, active_au_names)`` per face.
    """
    out = faces.to_bgr(image).copy()
    scale = max(out.shape[0], out.shape[1]) / 640.0
    font, fs, th = cv2.FONT_HERSHEY_SIMPLEX, 0.45 * max(scale, 0.6), max(1, round(scale))
    for face_id, box, active in faces_rows:
        color = _COLORS[face_id % len(_COLORS)]
        cv2.rectangle(out, (box.left, box.top), (box.right - 1, box.bottom - 1), color, th + 1)
        lines = [f"face {face_id}"] + [" ".join(active[i:i + 4]) for i in range(0, len(active), 4)]
        y = box.bottom + int(16 * max(scale, 0.6))
        for line in lines:
            cv2.putText(out, line, (box.left, y), font, fs, (0, 0, 0), th + 2, cv2.LINE_AA)
            cv2.putText(out, line, (box.left, y), font, fs, color, th, cv2.LINE_AA)
            y += int(16 * max(scale, 0.6))
    return out


class OverlayVideo:
    """Writes annotated frames to an MP4 (``mp4v``), else an MJPG ``.avi``, lazily opened."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps, self.writer = path, fps if fps > 0 else 25.0, None

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame."""
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = frame.shape[:2]
            self.writer = cv2.VideoWriter(os.fspath(self.path), cv2.VideoWriter_fourcc(*"mp4v"),
                                          self.fps, (w, h))  # fmt: skip
            if not self.writer.isOpened():
                self.path = self.path.with_suffix(".avi")
                self.writer = cv2.VideoWriter(os.fspath(self.path),
                                              cv2.VideoWriter_fourcc(*"MJPG"), self.fps, (w, h))
        self.writer.write(frame)

    def close(self) -> None:
        """Finish the file."""
        if self.writer is not None:
            self.writer.release()


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an overlay image, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise InputError(f"cannot encode overlay image {path}")
    path.write_bytes(data.tobytes())


def progress_bar(enabled: bool, total: int, name: str) -> Any:
    """A tqdm bar over a video's frames, or a silent stand-in."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with tensorflow-datasets
        enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total or None, desc=os.path.basename(name), unit="frame", leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass
