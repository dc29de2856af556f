"""Shared test settings (quiet TensorFlow, CPU only) and fixtures."""

import importlib.metadata
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


@pytest.fixture(scope="session")
def astronaut_file() -> Path:
    """The 512×512 public-domain astronaut photo inside the scikit-image wheel.

    scikit-image is a pinned test dependency (requirements.txt), used only for
    this file; it is located through package metadata, never imported.
    """
    dist = importlib.metadata.distribution("scikit-image")
    path = Path(dist.locate_file("skimage/data/astronaut.png"))
    assert path.is_file(), f"{path} is missing from the installed scikit-image wheel"
    return path
