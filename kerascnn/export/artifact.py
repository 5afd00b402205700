"""An exported model, run in its own runtime, with the metadata it carries.

`load_artifact` gives `.tflite`, `.onnx` and SavedModel exports the
`predict_on_batch` of a Keras model, so `kerascnn.training.evaluate` (and
`kerascnn evaluate model.int8.tflite --data ...`) measures an artifact's
accuracy exactly as it measures the Keras model's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kerascnn.export import runtimes
from kerascnn.export.errors import ExportError
from kerascnn.export.metadata import METADATA_FILE


def read_metadata(path: str | Path) -> dict:
    """The metadata stored inside an artifact (not its sidecar)."""
    path = Path(path)
    if path.suffix == ".tflite":
        from kerascnn.export.tflite import read_associated_metadata

        return read_associated_metadata(path)
    if path.suffix == ".onnx":
        import onnx

        props = {
            p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props
        }
        return json.loads(props["kerascnn"])
    asset = path / "assets" / METADATA_FILE  # a SavedModel's
    if not asset.is_file():
        asset = path / METADATA_FILE  # a micro/ folder's
    if asset.is_file():
        return json.loads(asset.read_text(encoding="utf-8"))
    raise ExportError(f"'{path}' carries no kerascnn metadata; was it exported by kerascnn?")


class Artifact:
    """An exported model that predicts like a Keras model.

    Attributes:
        path: The file or folder.
        metadata: Class names, preprocessing, source and fingerprint.
        input_shape: (height, width, channels).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._run = runtimes.runner(self.path)
        self.metadata = read_metadata(self.path)
        self.input_shape = tuple(self.metadata["preprocessing"]["input_shape"])

    @property
    def class_names(self) -> list[str]:
        """The classes it predicts, as the model it came from named them."""
        return list(self.metadata["class_names"])

    def predict_on_batch(self, images) -> np.ndarray:
        return self._run(np.asarray(images, dtype="float32"))


def load_artifact(path: str | Path) -> Artifact:
    """Opens a kerascnn export (`.tflite`, `.onnx` or SavedModel folder) in its runtime.

    Example:
    >>> artifact = load_artifact("lenet5_export/model.int8.tflite")
    >>> artifact.predict_on_batch(images).argmax(-1)
    """
    try:
        return Artifact(path)
    except (ExportError, OSError):
        raise
    except Exception as error:  # unreadable metadata: a truncated or foreign file
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise ExportError(
            f"'{path}' is not a readable kerascnn export ({type(error).__name__}: {reason}); "
            "export it again."
        ) from error
