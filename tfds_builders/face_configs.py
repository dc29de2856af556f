"""What the AU builders share: the stored face feature and size configs.

Each config stores faces as ``image_size`` × ``image_size`` grayscale squares;
96 (the default) leaves room for the 64×64 augmentation, 64 is the smallest
and fastest, 128 keeps more detail for other networks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

#: Stored face sizes, the default first.
FACE_SIZES = (96, 64, 128)


#: Release note of the version that moved faces from PNG to raw bytes.
RAW_FACES_NOTE = ("Faces stored as raw uint8 bytes instead of PNG: the input pipeline "
                  "decodes a whole batch with one decode_raw.")


def face_feature(size: int) -> tfds.features.Tensor:
    """The ``image`` feature of every AU builder: a ``[size, size, 1]`` uint8 face.

    Stored as raw bytes (``Encoding.BYTES``), not PNG: decoding is a memory
    copy, so ``keras_au.data`` parses and decodes whole batches at tens of
    thousands of faces per second on two cores. A 96×96 face takes 9 KiB.
    """
    return tfds.features.Tensor(
        shape=(size, size, 1), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES,
        doc="Face crop, gray, zero-padded to square, raw uint8 bytes.",
    )  # fmt: skip


@dataclasses.dataclass
class FaceImageConfig(tfds.core.BuilderConfig):
    """Attributes: image_size: side of the stored square grayscale face, pixels."""

    image_size: int = 96


def face_image_configs(what: str) -> list[FaceImageConfig]:
    """One config per size in :data:`FACE_SIZES`, named by the size (``"96"`` …)."""
    return [
        FaceImageConfig(
            name=str(size), image_size=size,
            description=f"{what} stored at {size}×{size} grayscale"
                        f"{' (default)' if size == FACE_SIZES[0] else ''}.",
        )
        for size in FACE_SIZES
    ]  # fmt: skip
