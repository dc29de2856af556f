"""keras_au: facial action unit detection in TensorFlow 2 / Keras 3.

A reimplementation of Fung & McDuff, "A Scalable Approach for Facial Action
Unit Classifier Training Using Noisy Data for Pre-Training" (arXiv:1911.05946):
pre-train a VGG-style CNN on faces with noisy automatic AU labels, fine-tune it
per subject-exclusive DISFA fold, export it.

Importing the package is cheap; TensorFlow is imported by the submodules that
need it (``keras_au.model``, ``keras_au.data`` …).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """Lazy ``keras_au.Detector``: TensorFlow loads on first use, not at import."""
    if name == "Detector":
        from keras_au.detector import Detector

        return Detector
    raise AttributeError(f"module 'keras_au' has no attribute {name!r}")
