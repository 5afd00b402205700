"""Runs each artifact in its real runtime and compares it with Keras.

TensorFlow runs the SavedModel, `ai_edge_litert` the `.tflite`, ONNX
Runtime the `.onnx`. Parity is the largest absolute difference of the
outputs and the fraction of images whose top-1 class agrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kerascnn.export.errors import ExportError
from kerascnn.export.metadata import INPUT_NAME, OUTPUT_NAME

FLOAT_TOLERANCE = 1e-4
QUANTIZED_AGREEMENT = 0.98
# One-sided 95%: a quantized artifact is refused only when its images show,
# with this confidence, that it agrees with Keras less often than required.
AGREEMENT_CONFIDENCE_Z = 1.645


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


def agreement_upper_bound(agreement: float, samples: int, z: float = AGREEMENT_CONFIDENCE_Z):
    """The upper end of the Wilson score interval of a measured agreement rate.

    Eighty images that flip two answers (97.5%) do not show that an artifact
    agrees less than 98% of the time; a thousand that flip twenty-five do.
    The Wilson interval stays inside [0, 1] and is sound for rates near 1
    and for few samples, where the normal approximation is not.

    Args:
        agreement: The fraction of images whose top-1 class agreed.
        samples: How many images it was measured on.
        z: The normal quantile of the confidence (1.645: one-sided 95%).

    Example:
    >>> round(agreement_upper_bound(0.975, 80), 4)
    0.9917
    """
    if samples <= 0:
        return 1.0
    n, p, z2 = samples, agreement, z * z
    center = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return min(1.0, (center + spread) / (1 + z2 / n))


def check(name: str, result: Parity, *, quantized: bool, tolerance: float, agreement: float):
    """Raises `ExportError` when an artifact is outside its tolerance.

    A quantized artifact is refused when even the upper end of the 95%
    confidence interval of its top-1 agreement is under `agreement`, so the
    gate is as strict as the number of images allows, and no stricter.
    """
    upper = agreement_upper_bound(result.top1_agreement, result.samples) if quantized else 1.0
    if upper < agreement:
        raise ExportError(
            f"{name}: top-1 agreement with Keras is {100 * result.top1_agreement:.1f}% on "
            f"{result.samples} images (at most {100 * upper:.1f}% at 95% confidence), under "
            f"the required {100 * agreement:.1f}%. Calibrate on more images like the ones it "
            "will see (--data for kerascnn export, representative_data in Python), or use a "
            "float variant."
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


class SavedModelRunner:
    """Runs a SavedModel's `serving_default` signature with TensorFlow."""

    def __init__(self, path: str | Path):
        import tensorflow as tf

        self._tf = tf
        self._serve = tf.saved_model.load(str(path)).signatures["serving_default"]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self._serve(**{INPUT_NAME: self._tf.constant(images)})[OUTPUT_NAME].numpy()


class TFLiteRunner:
    """Runs a `.tflite` with LiteRT (XNNPACK), quantizing and dequantizing
    integer inputs and outputs with the scales the model carries."""

    def __init__(self, path: str | Path, num_threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ExportError(
                "Running a TFLite model needs LiteRT: pip install ai-edge-litert."
            ) from error
        flatbuffer = Path(path).read_bytes()
        _refuse_flex(path, flatbuffer)
        # From bytes: any file name works, UTF-8 or not.
        self._interpreter = Interpreter(model_content=flatbuffer, num_threads=num_threads)
        self._source = self._interpreter.get_input_details()[0]
        self._image_shape = tuple(int(d) for d in self._source["shape"][1:])
        self._batch = None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter
        if self._batch != len(images):
            interpreter.resize_tensor_input(
                self._source["index"], (len(images), *self._image_shape)
            )
            interpreter.allocate_tensors()
            self._batch = len(images)
        source = interpreter.get_input_details()[0]
        target = interpreter.get_output_details()[0]
        interpreter.set_tensor(source["index"], quantize(images, source))
        interpreter.invoke()
        return dequantize(interpreter.get_tensor(target["index"]), target)


def _refuse_flex(path, flatbuffer: bytes) -> None:
    """LiteRT's Python interpreter has no Select TF (Flex) kernels: such a
    model cannot run here, which is said up front, naming the ops."""
    from kerascnn.export.tflite import op_names

    flex = sorted({op for op in op_names(flatbuffer) if op.startswith("Flex")})
    if flex:
        raise ExportError(
            f"'{path}' uses Select TF ops ({', '.join(flex)}), which LiteRT runs only when "
            "linked with its Flex delegate, not here; evaluate the .onnx or Keras model, or "
            "export without --allow-flex."
        )


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


class ONNXRunner:
    """Runs a `.onnx` with ONNX Runtime on the CPU."""

    def __init__(self, path: str | Path, num_threads: int | None = None):
        try:
            import onnxruntime
        except ImportError as error:
            message = "Running an ONNX model needs onnxruntime: pip install onnxruntime."
            raise ExportError(message) from error
        options = onnxruntime.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        # From bytes: ONNX Runtime takes only UTF-8 file names.
        self._session = onnxruntime.InferenceSession(
            Path(path).read_bytes(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: images})[0]


def runner(path: str | Path):
    """The runner of an artifact, by its kind: SavedModel folder, `.tflite`, `.onnx`."""
    path = Path(path)
    if path.is_dir() and (path / "micro.json").is_file():
        from kerascnn.export.micro import MicroRunner

        kind, runtime = MicroRunner, "TFLite Micro"
    elif path.is_dir() and (path / "saved_model.pb").is_file():
        kind, runtime = SavedModelRunner, "TensorFlow"
    elif path.suffix == ".tflite":
        kind, runtime = TFLiteRunner, "LiteRT"
    elif path.suffix == ".onnx":
        kind, runtime = ONNXRunner, "ONNX Runtime"
    else:
        raise ExportError(
            f"'{path}' is not an exported artifact; give a SavedModel folder, a .tflite or a .onnx."
        )
    try:
        return kind(path)
    except (ExportError, OSError):
        raise
    except Exception as error:  # the runtime's own complaint about the file
        reason = " ".join(str(error).split())[:300] or type(error).__name__
        raise ExportError(
            f"{runtime} cannot open '{path}': {reason}. It may be truncated or not an "
            "export; export it again."
        ) from error
