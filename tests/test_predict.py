"""Tests of AU prediction on generated images and videos (keras_au.predict, Detector, tracking)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import cv2
import keras
import numpy as np
import pandas as pd
import pytest

from keras_au import faces, predict
from keras_au.faces import FaceBox
from keras_au.model import AUNet
from keras_au.synth.generate import pretrain_example
from keras_au.tracking import IouTracker, iou

AUS = ["AU01", "AU12", "AU25"]
FPS, N_FRAMES, SIDE = 10.0, 20, 96
NO_FACE = {6, 7, 8}  # 0-based frame indices without a face
TWO_FACES = set(range(12, N_FRAMES))


def background(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(60, 200, (h, w), dtype=np.uint8), (0, 0), 8)


def face(index: int) -> np.ndarray:
    return pretrain_example(0, index, SIDE)["image"][:, :, 0]


def scene_frame(t: int) -> np.ndarray:
    """Frame t: face A moves right/down (absent in NO_FACE); face B on the right from frame 12."""
    frame = background()
    if t not in NO_FACE:
        frame[60 + t:60 + t + SIDE, 20 + 2 * t:20 + 2 * t + SIDE] = face(0)
    if t in TWO_FACES:
        frame[50:50 + SIDE, 200 - t:200 - t + SIDE] = face(1)
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (320, 240))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("media")
    keras.utils.set_random_seed(5)
    AUNet(au_names=AUS, block_filters=((4,), (8,)), dense_units=(8,),
          thresholds=[0.4, 0.5, 0.6]).save(root / "tiny.keras")  # fmt: skip
    paths = {"model": root / "tiny.keras"}
    paths["video"] = write_video(root / "scene.avi", [scene_frame(t) for t in range(N_FRAMES)])
    folder = root / "photos"
    (folder / "sub").mkdir(parents=True)
    two = background()
    two[60:60 + SIDE, 20:20 + SIDE] = face(2)
    two[50:50 + SIDE, 200:200 + SIDE] = face(3)
    cv2.imwrite(str(folder / "two.png"), two)  # gray PNG, two faces
    cv2.imwrite(str(folder / "empty.jpg"), cv2.cvtColor(background(seed=1), cv2.COLOR_GRAY2BGR))
    one = cv2.cvtColor(background(seed=2), cv2.COLOR_GRAY2BGR)
    one[40:40 + SIDE, 100:100 + SIDE] = face(4)[:, :, None]
    cv2.imwrite(str(folder / "sub" / "one.jpg"), one)
    (folder / "readme.txt").write_text("not media; ignored inside folders")
    paths["folder"] = folder
    bad = root / "bad"
    bad.mkdir()
    (bad / "corrupt.jpg").write_bytes(np.random.default_rng(0).bytes(3000))
    (bad / "notes.txt").write_text("hello")
    write_video(bad / "zero.avi", [])
    data = paths["video"].read_bytes()
    (bad / "truncated.avi").write_bytes(data[: len(data) // 2])
    (bad / "empty_folder").mkdir()
    cv2.imwrite(str(bad / "huge.png"), np.zeros((1500, 2000), np.uint8))
    paths["bad"] = bad
    return paths


@pytest.fixture(scope="module")
def detector(media):
    from keras_au.detector import Detector

    return Detector(media["model"], detect_every=1)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def test_video_one_row_per_frame_and_stable_ids(detector, media):
    df = detector.predict_video(media["video"])
    assert list(df.columns) == detector.columns
    assert len(df) == N_FRAMES + len(TWO_FACES)
    assert sorted(df["frame"].unique()) == list(range(1, N_FRAMES + 1))
    assert (df["detected"] == 1).all()
    per_frame = df.groupby("frame").size()
    assert all(per_frame[t + 1] == (2 if t in TWO_FACES else 1) for t in range(N_FRAMES))
    empty = df[df["success"] == 0]
    assert sorted(empty["frame"]) == [t + 1 for t in sorted(NO_FACE)]
    assert (empty["face_id"] == -1).all() and empty["AU01_p"].isna().all()
    found = df[df["success"] == 1]
    # face A (left) keeps id 0 across the gap; face B (right) is id 1
    assert set(found.loc[found["face_x"] < 160, "face_id"]) == {0}
    assert set(found.loc[found["face_x"] >= 160, "face_id"]) == {1}
    np.testing.assert_allclose(df["timestamp"], (df["frame"] - 1) / FPS, atol=1e-6)
    probs = found[[f"{a}_p" for a in AUS]].to_numpy(float)
    assert ((probs > 0) & (probs < 1)).all()
    thresholds = np.float32([0.4, 0.5, 0.6])
    np.testing.assert_array_equal(found[[f"{a}_c" for a in AUS]], (probs >= thresholds).astype(int))


def test_detect_every_n_tracks_between_detections(media):
    from keras_au.detector import Detector

    class Counting:
        name = "counting-ssd"

        def __init__(self) -> None:
            self.inner, self.calls = faces.make_detector("ssd"), 0

        def detect(self, image: np.ndarray) -> list[FaceBox]:
            self.calls += 1
            return self.inner.detect(image)

    counting = Counting()
    df = Detector(media["model"], counting, detect_every=4, batch_size=8).predict_video(media["video"])
    assert counting.calls == 5  # frames 1, 5, 9, 13, 17
    assert sorted(df.loc[df["detected"] == 1, "frame"].unique()) == [1, 5, 9, 13, 17]
    assert len(df) == N_FRAMES + len(TWO_FACES)
    found = df[df["success"] == 1]
    assert set(found.loc[found["face_x"] < 160, "face_id"]) == {0}
    assert set(found.loc[found["face_x"] >= 160, "face_id"]) == {1}
    boxes = found.set_index(["frame", "face_id"])[["face_x", "face_y", "face_width"]]
    for frame in (14, 15, 16):  # carried from the detection on frame 13
        assert boxes.loc[(frame, 1)].tolist() == boxes.loc[(13, 1)].tolist()


def test_cli_processes_good_inputs_and_reports_bad_ones(media, tmp_path, capsys):
    bad = media["bad"]
    out = tmp_path / "results" / "aus.csv"
    argv = ["--model", str(media["model"]), str(media["folder"]), str(media["video"]),
            *(str(bad / n) for n in ("corrupt.jpg", "notes.txt", "zero.avi", "truncated.avi",
                                     "empty_folder", "missing.png", "huge.png")),
            "-o", str(out), "--overlay", str(tmp_path / "overlay"), "--detect-every", "1",
            "--max-pixels", "2000000", "--batch-size", "4"]  # fmt: skip
    assert predict.main(argv) == 0
    err = capsys.readouterr().err
    df = read_csv(out)
    files = df.groupby("file").size().to_dict()
    folder = str(media["folder"])
    assert files[f"{folder}/two.png"] == 2 and files[f"{folder}/empty.jpg"] == 1
    assert files[f"{folder}/sub/one.jpg"] == 1 and files[str(media["video"])] == 28
    two = df[df["file"] == f"{folder}/two.png"].sort_values("face_x")
    assert two["face_id"].tolist() == [0, 1] and two["success"].tolist() == [1, 1]
    assert df.loc[df["file"] == f"{folder}/empty.jpg", "success"].tolist() == [0]
    truncated = df[df["file"] == str(bad / "truncated.avi")]
    assert 0 < len(truncated) < N_FRAMES
    report = {r["input"]: r for r in csv.DictReader(open(predict.skipped_path(out)))}
    assert set(report) == {str(bad / n) for n in ("corrupt.jpg", "notes.txt", "zero.avi",
                                                  "truncated.avi", "empty_folder",
                                                  "missing.png", "huge.png")}  # fmt: skip
    assert "too large" in report[str(bad / "huge.png")]["reason"]
    assert "no images or videos" in report[str(bad / "empty_folder")]["reason"]
    assert "no readable frames" in report[str(bad / "zero.avi")]["reason"]
    assert "cannot" in report[str(bad / "corrupt.jpg")]["reason"]
    assert report[str(bad / "truncated.avi")]["frames_processed"] == str(len(truncated))
    for name in report:
        assert name in err
    overlays = {p.relative_to(tmp_path / "overlay").as_posix()
                for p in (tmp_path / "overlay").rglob("*") if p.is_file()}  # fmt: skip
    assert {"photos/two.png", "photos/sub/one.jpg", "scene.avi.overlay.mp4"} <= overlays
    cap = cv2.VideoCapture(str(tmp_path / "overlay" / "scene.avi.overlay.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == N_FRAMES
    cap.release()


def test_cli_exit_2_when_nothing_or_no_model(media, tmp_path, capsys):
    bad = media["bad"]
    out = str(tmp_path / "o.csv")
    assert predict.main(["-m", str(media["model"]), str(bad / "corrupt.jpg"),
                         str(bad / "empty_folder"), "-o", out]) == 2  # fmt: skip
    assert "none of the inputs" in capsys.readouterr().err
    for model in (bad / "notes.txt", bad / "empty_folder", tmp_path / "missing.keras"):
        assert predict.main(["-m", str(model), str(media["folder"]), "-o", out]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and err.startswith("keras_au.predict: error:")
        assert "model" in err


def test_api_arrays_rgb_or_bgr_give_the_same(detector, media):
    bgr = cv2.imread(str(media["folder"] / "sub" / "one.jpg"))
    a = detector.predict(bgr)
    b = detector.predict([np.ascontiguousarray(bgr[..., ::-1])], color_order="rgb")
    assert a["file"].tolist() == ["array[0]"] and a["success"].tolist() == [1]
    pd.testing.assert_frame_equal(a, b)
    from keras_au import export
    from keras_au.detector import Detector

    in_memory = Detector(export.load_keras_model(media["model"]), detector.face_detector)
    pd.testing.assert_frame_equal(in_memory.predict(bgr), a)


def test_keras_au_detector_is_lazy():
    code = ("import sys, keras_au; d = keras_au.Detector; "
            "assert d.__name__ == 'Detector'; assert 'tensorflow' not in sys.modules")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_tracker_keeps_ids_and_forgets():
    t = IouTracker(iou_threshold=0.3, max_missed=5)
    a, b = FaceBox(0, 0, 10, 10, 0.9), FaceBox(50, 50, 60, 60, 0.8)
    assert iou(a, a) == 1.0 and iou(a, b) == 0.0
    assert t.update([a, b], 0) == [(0, a), (1, b)]
    a2 = FaceBox(1, 1, 11, 11, 0.9)
    assert t.update([b, a2], 1) == [(0, a2), (1, b)]  # matched by overlap, not order
    assert t.update([b], 3) == [(1, b)]  # face 0 missed: hidden
    assert t.visible() == [(1, b)]
    assert t.update([a2, b], 4) == [(0, a2), (1, b)]  # back within max_missed: same id
    assert t.update([], 20) == [] and t.update([a], 21) == [(2, a)]  # forgotten: new id
