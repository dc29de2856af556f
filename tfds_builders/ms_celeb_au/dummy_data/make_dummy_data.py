"""Regenerate this folder: a tiny `pre_train_images/` in the paper's layout.

Run from anywhere: ``python tfds_builders/ms_celeb_au/dummy_data/make_dummy_data.py``.
The first three train rows are real rows of the seed's ``test_label.csv``; the
other rows are made up; the images are drawn
cartoon faces (the seed ships no images). One train row names an image that
does not exist, so the builder must skip and report it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent

TRAIN = [
    'm.059w4s_84-FaceId-0.jpg,"(0, 0, 100, 100)",0,1,0,1,1,0,0,0,0,0,1,1,1,0,0,0,1,1,0',
    'm.042krf_0-FaceId-0.jpg,"(0, 0, 120, 120)",1,1,0,0,1,1,1,0,1,0,1,1,1,1,1,0,1,0,0',
    'm.06lj1m_0-FaceId-0.jpg,"(0, 0, 100, 100)",0,0,0,0,0,1,0,0,0,1,1,0,0,1,0,0,1,0,0',
    'm.0missing_0-FaceId-0.jpg,"(0, 0, 100, 100)",1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0',
]
TEST = [
    'm.0b6k0n_3-FaceId-0.jpg,"(0, 0, 110, 110)",1,1,1,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0',
    'm.0dq9p6_1-FaceId-0.jpg,"(0, 0, 100, 100)",0,0,0,1,0,0,1,0,1,0,0,1,0,0,1,0,0,0,1',
    'm.0fq2h0_2-FaceId-0.jpg,"(10, 0, 140, 120)",1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1',
]


def cartoon_face(width: int, height: int, seed: int) -> np.ndarray:
    """A BGR drawing of a face filling the image (deterministic)."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 40 + 10 * seed, np.uint8)
    cx, cy = width // 2, height // 2
    skin = tuple(int(v) for v in rng.integers(120, 220, 3))
    cv2.ellipse(img, (cx, cy), (width * 2 // 5, height * 9 // 20), 0, 0, 360, skin, -1)
    for dx in (-width // 6, width // 6):
        cv2.circle(img, (cx + dx, cy - height // 8), max(width // 20, 2), (30, 30, 30), -1)
    cv2.ellipse(img, (cx, cy + height // 5), (width // 6, height // 16), 0, 0, 180,
                (40, 40, 150), 2)  # fmt: skip
    return img


def main() -> None:
    for name, rows in (("train_label.csv", TRAIN), ("test_label.csv", TEST)):
        (HERE / name).write_text("\n".join(rows) + "\n")
    for seed, row in enumerate(TRAIN[:3] + TEST):
        image = row.split(",")[0]
        box = [int(v) for v in row.split('"')[1].strip("()").split(",")]
        img = cartoon_face(box[2] + 5 * (seed % 2), box[3], seed)
        cv2.imwrite(str(HERE / image), img, [cv2.IMWRITE_JPEG_QUALITY, 80])


if __name__ == "__main__":
    main()
