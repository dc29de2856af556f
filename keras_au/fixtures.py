"""Seed-layout folders with generated images, for tests and benchmarks.

Given one of the paper's label CSVs (real or made up), write a placeholder
image under every file name it lists, sized to hold the row's face box, so a
builder can be run over the real label files without the licensed images.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np

from keras_au import label_csv


def write_placeholder_images(label_file: str | Path, out_dir: str | Path) -> int:
    """Copy ``label_file`` into ``out_dir`` and write an image for each of its rows.

    Each image is a gray gradient of the size ``(right, bottom)`` of the row's
    box, so the box lies inside it. Images of one size share their encoded
    bytes, which keeps this fast for tens of thousands of rows.

    Returns:
        The number of images written.
    """
    label_file, out_dir = Path(label_file), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(label_file, out_dir / label_file.name)
    encoded: dict[tuple[int, int], bytes] = {}
    count = 0
    with label_file.open() as f:
        for line in f:
            if not line.strip():
                continue
            name, rest = line.split(",", 1)
            box_text = rest[: rest.index(")") + 1].strip().strip('"')
            _, _, right, bottom = label_csv.parse_rect(box_text)
            size = (max(right, 1), max(bottom, 1))
            if size not in encoded:
                ramp = np.linspace(30, 220, size[0] * size[1], dtype=np.float32)
                image = ramp.reshape(size[1], size[0]).astype(np.uint8)
                encoded[size] = cv2.imencode(".jpg", image)[1].tobytes()
            (out_dir / name).write_bytes(encoded[size])
            count += 1
    return count
