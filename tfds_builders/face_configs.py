"""Builder configs shared by the real-data builders: the stored face size.

Each config stores faces as ``image_size`` × ``image_size`` grayscale squares;
96 (the default) leaves room for the 64×64 augmentation, 64 is the smallest
and fastest, 128 keeps more detail for other networks.
"""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

#: Stored face sizes, the default first.
FACE_SIZES = (96, 64, 128)


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
