"""ONNX conversion through tf2onnx: chosen opset, dynamic batch, full check.

Optionally an int8 model through ONNX Runtime's static quantization (QDQ,
per-channel weights), calibrated on representative images.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from kerascnn.export.calibration import CALIBRATION_IMAGES
from kerascnn.export.errors import ExportError
from kerascnn.export.graph import (
    input_signature,
    predictions_and_maps_function,
    serving_function,
)
from kerascnn.export.metadata import INPUT_NAME, OUTPUT_NAME

DEFAULT_OPSET = 17
BATCH_DIM = "batch"


def _import(name: str):
    try:
        return __import__(name, fromlist=["_"])
    except ImportError as error:
        raise ExportError(
            f"ONNX export needs the '{name}' package, which is not installed: "
            f"pip install {name.split('.')[0]} (or reinstall kerascnn with its dependencies)."
        ) from error


def convert(model, *, opset: int = DEFAULT_OPSET, feature_maps: bool = False):
    """The `onnx.ModelProto` of a Keras model, batch dimension named `batch`.

    With `feature_maps`, every step's convolution, rectified feature map and
    pooled map is an extra output named after its layer (as
    `kerascnn.inspection.feature_maps` names them), beside `predictions`.
    """
    tf2onnx = _import("tf2onnx")
    onnx = _import("onnx")
    function = predictions_and_maps_function(model) if feature_maps else serving_function(model)
    try:
        proto, _ = tf2onnx.convert.from_function(
            function, input_signature=input_signature(model), opset=opset
        )
    except Exception as error:  # tf2onnx raises many types
        raise ExportError(
            f"ONNX (opset {opset}) conversion of model '{model.name}' failed: "
            f"{type(error).__name__}: {str(error).strip().splitlines()[-1:]}. Try another "
            "opset (--opset), or replace the layer named in the message."
        ) from error
    for value in (*proto.graph.input, *proto.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_param = BATCH_DIM
    # `predictions` first: an app that takes the first output gets the
    # classes, feature maps or not (tf2onnx orders the outputs by name).
    outputs = sorted(proto.graph.output, key=lambda value: value.name != OUTPUT_NAME)
    outputs = [type(value).FromString(value.SerializeToString()) for value in outputs]
    del proto.graph.output[:]
    proto.graph.output.extend(outputs)
    unconverted = sorted(
        {
            node.op_type
            for node in proto.graph.node
            if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type)
        }
    )
    if unconverted:
        raise ExportError(
            f"ONNX (opset {opset}): tf2onnx could not convert these TensorFlow ops of model "
            f"'{model.name}': {', '.join(unconverted)}. Replace the layers that use them, or "
            "try another opset (--opset)."
        )
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as error:
        raise ExportError(
            f"The ONNX model of '{model.name}' fails onnx.checker: {error}"
        ) from error
    return proto


def check_feature_maps(path: Path, model, images: np.ndarray, tolerance: float) -> float:
    """Compares the map outputs of an ONNX export, run by ONNX Runtime, with
    `kerascnn.inspection.feature_maps`; returns the largest difference
    relative to each map's largest value.

    Raises:
        ExportError: a map differs by more than `tolerance`.
    """
    from kerascnn.inspection import feature_maps

    runtime = _import("onnxruntime")
    session = runtime.InferenceSession(path.read_bytes(), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs() if o.name != OUTPUT_NAME]
    served = dict(zip(names, session.run(names, {INPUT_NAME: images}), strict=True))
    expected = feature_maps(model, images)
    if sorted(served) != sorted(expected):
        raise ExportError(
            f"'{path.name}' serves the maps {sorted(served)}, not {sorted(expected)}."
        )
    worst = 0.0
    for name, reference in expected.items():
        scale = max(float(np.abs(reference).max()), 1.0)
        worst = max(worst, float(np.abs(served[name] - reference).max()) / scale)
    if worst > tolerance:
        raise ExportError(
            f"The feature maps of '{path.name}' differ from kerascnn.inspection's by up to "
            f"{worst:.2e} of their largest value (tolerance {tolerance:.0e})."
        )
    return worst


def set_metadata(proto, metadata: dict) -> None:
    """Stores the metadata in `metadata_props` (read by onnxruntime's custom_metadata_map)."""
    onnx = _import("onnx")
    props = {
        "kerascnn": json.dumps(metadata),
        "class_names": json.dumps(metadata["class_names"]),
        "preprocessing": json.dumps(metadata["preprocessing"]),
        "source": metadata["source"],
    }
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, props)
    proto.producer_name = "kerascnn"


def quantize_int8(float_model: Path, representative: np.ndarray):
    """Static int8 quantization (QDQ, per-channel weights) with ONNX Runtime;
    returns the quantized `onnx.ModelProto`."""
    onnx = _import("onnx")
    quantization = _import("onnxruntime.quantization")
    if representative is None or len(representative) == 0:
        raise ExportError(
            "ONNX int8 quantization calibrates on representative images; pass representative_data."
        )
    images = np.asarray(representative[:CALIBRATION_IMAGES], dtype="float32")

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self._batches = iter([{INPUT_NAME: image[None]} for image in images])

        def get_next(self):
            return next(self._batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared, output = Path(tmp) / "prepared.onnx", Path(tmp) / "int8.onnx"
        quantization.shape_inference.quant_pre_process(
            str(float_model), str(prepared), skip_symbolic_shape=True
        )
        try:
            quantization.quantize_static(
                str(prepared),
                str(output),
                Reader(),
                quant_format=quantization.QuantFormat.QDQ,
                activation_type=quantization.QuantType.QInt8,
                weight_type=quantization.QuantType.QInt8,
                per_channel=True,
            )
        except Exception as error:
            raise ExportError(f"ONNX Runtime int8 quantization failed: {error}") from error
        return onnx.load(str(output))
