"""Regenerate this folder: a tiny `fine_tune_images/` in the paper's layout.

Run from anywhere: ``python tfds_builders/disfa/dummy_data/make_dummy_data.py``.

* ``fold1_test.csv``: SN002 and SN005, right camera, 0/1 labels (real rows'
  format); one row names a frame whose image is absent (skipped and reported).
* ``fold1_train.csv``: SN001, right frames 0-2 and left frame 0, 0/1 labels.
* ``fold2_test.csv``: SN001 right frames 0-1 again, as intensities 0-5 that
  agree with fold1_train's presence — stored once, intensities kept.
* The other three fold CSVs are absent (reported in ``missing_files``).

Images are 120×120 drawn cartoon faces (the seed ships no images).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
BOX = '"(0,0,120,120)"'
ZERO = [0] * 12

FOLD1_TEST = [
    ("RightVideoSN002_00000000.jpg", ZERO),
    ("RightVideoSN002_00000001.jpg", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
    ("RightVideoSN005_00000000.jpg", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
    ("RightVideoSN005_00000001.jpg", ZERO),
    ("RightVideoSN005_00000002.jpg", ZERO),  # no image file
]
FOLD1_TRAIN = [
    ("RightVideoSN001_00000000.jpg", [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
    ("RightVideoSN001_00000001.jpg", ZERO),
    ("RightVideoSN001_00000002.jpg", ZERO),
    ("LeftVideoSN001_00000000.jpg", [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]),
]
FOLD2_TEST = [
    ("RightVideoSN001_00000000.jpg", [0, 1, 3, 0, 0, 0, 5, 0, 0, 1, 0, 0]),
    ("RightVideoSN001_00000001.jpg", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
]
MISSING_IMAGES = {"RightVideoSN005_00000002.jpg"}


def cartoon_face(seed: int) -> np.ndarray:
    """A 120×120 BGR drawing of a face (deterministic)."""
    img = np.full((120, 120, 3), 30 + 7 * seed, np.uint8)
    cv2.ellipse(img, (60, 62), (44, 54), 0, 0, 360, (150, 170, 200 - 5 * seed), -1)
    for dx in (-20, 20):
        cv2.circle(img, (60 + dx, 48), 5, (20, 20, 20), -1)
    cv2.ellipse(img, (60, 88), (18, 4 + seed % 5), 0, 0, 180, (40, 40, 160), 2)
    return img


def main() -> None:
    files = {"fold1_test.csv": FOLD1_TEST, "fold1_train.csv": FOLD1_TRAIN,
             "fold2_test.csv": FOLD2_TEST}  # fmt: skip
    names = []
    for file, rows in files.items():
        lines = [",".join([image, BOX, *map(str, levels)]) for image, levels in rows]
        (HERE / file).write_text("\n".join(lines) + "\n")
        names += [image for image, _ in rows if image not in names]
    for seed, image in enumerate(n for n in names if n not in MISSING_IMAGES):
        cv2.imwrite(str(HERE / image), cartoon_face(seed), [cv2.IMWRITE_JPEG_QUALITY, 80])


if __name__ == "__main__":
    main()
