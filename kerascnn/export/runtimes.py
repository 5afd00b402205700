"""Runs each artifact in its real runtime and compares it with Keras.

TensorFlow runs the SavedModel, `ai_edge_litert` the `.tflite`, ONNX
Runtime the `.onnx`. Parity is the largest absolute difference of the
outputs and the fraction of images whose top-1 class agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerascnn.export.errors import ExportError
from kerascnn.export.graph import INPUT_NAME, OUTPUT_NAME

FLOAT_TOLERANCE = 1e-4
QUANTIZED_AGREEMENT = 0.98


@dataclass(frozen=True)
class Parity:
    """How closely an artifact reproduces the Keras model on sample images."""

    samples: int
    max_abs_diff: float
    top1_agreement: float
    reference_scale: float = 1.0

    def to_dict(self) -> dict:
        return {
            "samples": self.samples,
            "max_abs_diff": self.max_abs_diff,
            "top1_agreement": self.top1_agreement,
        }


def parity(reference: np.ndarray, outputs: np.ndarray) -> Parity:
    reference = np.asarray(reference, dtype="float64")
    outputs = np.asarray(outputs, dtype="float64")
    if reference.shape != outputs.shape:
        raise ExportError(
            f"The artifact's output has shape {outputs.shape}; Keras gives {reference.shape}."
        )
    return Parity(
        samples=len(reference),
        max_abs_diff=float(np.max(np.abs(reference - outputs))),
        top1_agreement=float(np.mean(reference.argmax(-1) == outputs.argmax(-1))),
        reference_scale=float(max(1.0, np.max(np.abs(reference)))),
    )


def check(name: str, result: Parity, *, quantized: bool, tolerance: float, agreement: float):
    """Raises `ExportError` when an artifact is outside its tolerance."""
    if quantized and result.top1_agreement < agreement:
        raise ExportError(
            f"{name}: top-1 agreement with Keras is {100 * result.top1_agreement:.1f}% on "
            f"{result.samples} images, under the required {100 * agreement:.1f}%. Calibrate "
            "on more representative images (representative_data), or use a float variant."
        )
    # Probabilities are at most 1; other outputs (raw maps, sums) get the
    # same tolerance relative to their magnitude.
    allowed = tolerance * result.reference_scale
    if not quantized and not result.max_abs_diff <= allowed:
        raise ExportError(
            f"{name}: outputs differ from Keras by up to {result.max_abs_diff:.3g} on "
            f"{result.samples} images, over the tolerance {allowed:g}. This is a converter "
            "defect for this model; report it with the model attached."
        )


def run_saved_model(directory: Path, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
    return serve(**{INPUT_NAME: tf.constant(images)})[OUTPUT_NAME].numpy()


def run_tflite(path: Path, images: np.ndarray) -> np.ndarray:
    """Runs a `.tflite` image by image-batch, quantizing and dequantizing
    integer inputs and outputs with the scales the model carries."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ExportError(
            "Checking a TFLite model needs LiteRT: pip install ai-edge-litert."
        ) from error
    interpreter = Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], images.shape)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    interpreter.set_tensor(source["index"], quantize(images, source))
    interpreter.invoke()
    return dequantize(interpreter.get_tensor(target["index"]), target)


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return values.astype(dtype)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    if np.dtype(detail["dtype"]).kind == "f":
        return values.astype("float32")
    scale, zero_point = detail["quantization"]
    return ((values.astype("float32") - zero_point) * scale).astype("float32")


def run_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    try:
        import onnxruntime
    except ImportError as error:
        raise ExportError(
            "Checking an ONNX model needs onnxruntime: pip install onnxruntime."
        ) from error
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: images})[0]
