"""TFLite (LiteRT) conversion: float32, float16, dynamic-range, full int8.

Builtin ops only unless the caller opts in to Select TF (Flex) ops; the op
list and whether the GPU delegate takes every op go into the report.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import tensorflow as tf

from kerascnn.export.calibration import CALIBRATION_IMAGES
from kerascnn.export.errors import ExportError
from kerascnn.export.graph import frozen_module
from kerascnn.export.metadata import LABELS_FILE, METADATA_FILE, labels_text

# "float32" is the plain conversion; "int8" and "uint8" are full-integer
# models whose input and output are of that type.
TFLITE_VARIANTS = ("float32", "float16", "dynamic", "int8", "uint8")

# The builtin ops the TFLite GPU delegate parses (NewOperationParser in
# tensorflow/lite/delegates/gpu/common/model_builder.cc). Written out rather
# than taken from tf.lite.experimental.Analyzer, which was seen to pass Flex,
# TOPK_V2 and CUMSUM ops as GPU-compatible.
GPU_DELEGATE_OPS = frozenset(
    {
        "ABS", "ADD", "AVERAGE_POOL_2D", "BATCH_MATMUL", "CAST", "CONCATENATION", "CONV_2D",
        "COS", "DENSIFY", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE", "DIV", "ELU",
        "EQUAL", "EXP", "FLOOR", "FLOOR_DIV", "FLOOR_MOD", "FULLY_CONNECTED", "GATHER",
        "GREATER", "GREATER_EQUAL", "HARD_SWISH", "LEAKY_RELU", "LESS", "LESS_EQUAL", "LOG",
        "LOGICAL_AND", "LOGISTIC", "MAXIMUM", "MAX_POOL_2D", "MEAN", "MINIMUM", "MIRROR_PAD",
        "MUL", "NEG", "NOT_EQUAL", "ONE_HOT", "PACK", "PAD", "PADV2", "POW", "PRELU",
        "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "RELU", "RELU6", "RELU_N1_TO_1",
        "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT", "SELECT_V2", "SIN",
        "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SPLIT_V", "SQRT", "SQUARE",
        "SQUARED_DIFFERENCE", "STRIDED_SLICE", "SUB", "SUM", "TANH", "TILE", "TRANSPOSE",
        "TRANSPOSE_CONV",
    }
)  # fmt: skip


def save_frozen(model, directory) -> None:
    """Writes the SavedModel every TFLite variant is converted from: the
    serving signature with the weights as constants (`graph.frozen_module`)."""
    module = frozen_module(model)
    tf.saved_model.save(module, str(directory), signatures={"serving_default": module.serve})


def convert(
    frozen_saved_model,
    variant: str = "float32",
    *,
    name: str = "model",
    representative=None,
    allow_flex: bool = False,
) -> bytes:
    """The `.tflite` flatbuffer of one variant.

    Args:
        frozen_saved_model: The folder `save_frozen` wrote.
        variant: One of `TFLITE_VARIANTS`.
        name: The model's name, for error messages.
        representative: Calibration images (float32 array), required for
            "int8" and "uint8".
        allow_flex: Allow Select TF (Flex) ops; the app then needs the Flex
            delegate. Without it, a model that needs them is refused.
    """
    if variant not in TFLITE_VARIANTS:
        raise ExportError(
            f"Unknown TFLite variant. Received: {variant!r}; use one of {TFLITE_VARIANTS}."
        )
    converter = tf.lite.TFLiteConverter.from_saved_model(str(frozen_saved_model))
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant in ("int8", "uint8"):
        if representative is None or len(representative) == 0:
            raise ExportError(
                f"Full-integer ({variant}) quantization calibrates on representative "
                "images; pass representative_data (an array of raw images, a tf.data "
                "data set or a kerascnn data set)."
            )
        calibration = np.asarray(representative[:CALIBRATION_IMAGES], dtype="float32")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([image[None]] for image in calibration)
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = getattr(tf, variant)
        converter.inference_output_type = getattr(tf, variant)
    if allow_flex:
        ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
    converter.target_spec.supported_ops = ops
    try:
        return converter.convert()
    except Exception as error:  # the converter raises several types
        raise _conversion_error(name, variant, error, allow_flex) from error


def _conversion_error(name, variant, error, allow_flex) -> ExportError:
    text = str(error)
    # Op names read as `tf.Cumprod(...)` in the converter's message.
    flex = sorted(set(re.findall(r"\btf\.([A-Z]\w*)", text)))
    if flex and not allow_flex and ("Select TF" in text or "flex" in text.lower()):
        return ExportError(
            f"TFLite ({variant}): model '{name}' needs ops that are not TFLite builtins: "
            f"{', '.join(flex)}. Replace the layers that use them, or pass allow_flex=True "
            "(--allow-flex) to include them as Select TF ops; the app then needs the Flex "
            "delegate."
        )
    summary = text.strip().splitlines()[-1] if text.strip() else type(error).__name__
    return ExportError(
        f"TFLite ({variant}) conversion of model '{name}' failed: {summary}. "
        "If a custom layer is involved, make sure it uses keras.ops only."
    )


def op_names(flatbuffer: bytes) -> list[str]:
    """The distinct operator names of a `.tflite` model, sorted."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flatbuffer))
    codes = {value: name for name, value in vars(schema.BuiltinOperator).items() if name.isupper()}
    names = set()
    for subgraph in model.subgraphs:
        for operator in subgraph.operators:
            code = model.operatorCodes[operator.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            if builtin == schema.BuiltinOperator.CUSTOM:
                custom = code.customCode
                names.add(custom.decode() if isinstance(custom, bytes) else str(custom))
            else:
                names.add(codes.get(builtin, str(builtin)))
    return sorted(names)


def gpu_unsupported(ops: list[str]) -> list[str]:
    """The ops the TFLite GPU delegate would leave to the CPU."""
    return [op for op in ops if op not in GPU_DELEGATE_OPS]


def with_associated_files(flatbuffer: bytes, metadata: dict) -> bytes:
    """The model with its metadata and labels appended as a zip archive.

    This is how TFLite attaches associated files: readers of the flatbuffer
    ignore the trailing bytes, and any zip reader (Python's `zipfile`) lists
    the files, so an app needs neither TensorFlow nor kerascnn to read them.
    """
    buffer = io.BytesIO()
    buffer.write(flatbuffer)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA_FILE, json.dumps(metadata, indent=2))
        archive.writestr(LABELS_FILE, labels_text(metadata))
    return buffer.getvalue()


def read_associated_metadata(path) -> dict:
    """The metadata a kerascnn `.tflite` carries."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(METADATA_FILE))
