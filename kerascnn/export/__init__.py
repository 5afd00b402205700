"""Export to SavedModel, TFLite (LiteRT) and ONNX, verified against Keras.

`export_model` writes every artifact with its metadata (class names,
preprocessing, source, fingerprint), runs each one in its own runtime and
compares it with the Keras model. TensorFlow Lite, tf2onnx, ONNX and ONNX
Runtime are imported only when an export needs them.

Example:
>>> from kerascnn.export import export_model
>>> from kerascnn.zoo import create_model
>>> report = export_model(create_model("lenet5.mnist"), "out/lenet5")
>>> print(report)
"""

from kerascnn.export.artifact import Artifact, load_artifact, read_metadata
from kerascnn.export.errors import ExportError
from kerascnn.export.pipeline import FORMATS, QUANTIZATIONS, export_model
from kerascnn.export.report import ArtifactReport, ExportReport

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "Artifact",
    "ArtifactReport",
    "ExportError",
    "ExportReport",
    "export_model",
    "load_artifact",
    "read_metadata",
]
