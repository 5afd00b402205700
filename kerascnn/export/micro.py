"""Microcontrollers: a full-integer `.tflite`, its bytes as C++, the op
resolver, and the smallest tensor arena, checked in TFLite Micro itself.

`write_micro` writes `micro/`:

- `model.tflite`: int8 in, int8 out, built-in ops only, calibrated on the
  representative images;
- `model_data.cc` / `model_data.h`: the same bytes as a 16-byte aligned
  `const` C array with its length; the header also declares the class
  names and the input and output scale and zero point, so firmware needs
  nothing else from the export;
- `op_resolver.h`: `RegisterOps`, which adds exactly the model's operators
  to a `tflite::MicroMutableOpResolver<N>`;
- `kerascnn_metadata.json`: the model's metadata, for Python tools;
- `micro.json`: `flash_bytes`, `arena_bytes` (the smallest arena the model
  runs in, found by running it in TFLite Micro, rounded up to 16 bytes),
  the ops, and, once verified, the parity figures.

TFLite Micro's Python interpreter (PyPI `tflite-micro`) is an optional
dependency, imported only here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from kerascnn.export.errors import ExportError
from kerascnn.export.metadata import METADATA_FILE

MICRO_DIR = "micro"
FIGURES_FILE = "micro.json"
ARENA_ALIGNMENT = 16
_LARGEST_ARENA = 256 * 1024 * 1024

# TFLite builtin operator -> `MicroMutableOpResolver` method (TFLite Micro's
# micro_mutable_op_resolver.h); an operator missing here has no Micro kernel.
RESOLVER_METHODS = {
    "ADD": "AddAdd",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "EXPAND_DIMS": "AddExpandDims",
    "FULLY_CONNECTED": "AddFullyConnected",
    "HARD_SWISH": "AddHardSwish",
    "LEAKY_RELU": "AddLeakyRelu",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MUL": "AddMul",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "QUANTIZE": "AddQuantize",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "SHAPE": "AddShape",
    "SOFTMAX": "AddSoftmax",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
}


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as error:
        raise ExportError(
            "The micro format is checked in TFLite Micro's own interpreter: "
            "pip install tflite-micro."
        ) from error
    return runtime


# Sets the model up in a given arena, in a child process: TFLite Micro's
# allocator crashes (a segmentation fault, measured on mobilecnn_050 with a
# 4 KiB arena) instead of failing when some arenas are too small.
_PROBE = """
import sys
from tflite_micro.python.tflite_micro import runtime
try:
    runtime.Interpreter.from_bytes(open(sys.argv[1], "rb").read(), arena_size=int(sys.argv[2]))
except RuntimeError:
    sys.exit(1)
"""


def _runs_in(model_file: Path, arena: int) -> bool:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(model_file), str(arena)],
        capture_output=True,  # TFLite Micro prints each failed allocation
        check=False,
    )
    return probe.returncode == 0


def smallest_arena(flatbuffer: bytes) -> int:
    """The smallest tensor arena (bytes, a multiple of 16) TFLite Micro
    allocates the model in, by bisection over real allocations, each in a
    child process.

    Raises:
        ExportError: it does not run in 256 MiB (too large for a
            microcontroller, or an operator TFLite Micro lacks).
    """
    _runtime()  # a clear error when tflite-micro is missing
    with tempfile.TemporaryDirectory() as scratch:
        model_file = Path(scratch) / "model.tflite"
        model_file.write_bytes(flatbuffer)
        low, high = 0, 16 * 1024  # `low` is known not to fit
        while not _runs_in(model_file, high):
            if high >= _LARGEST_ARENA:
                raise ExportError(
                    "TFLite Micro could not set the model up in a 256 MiB arena; it is too "
                    "large for a microcontroller, or uses an operator TFLite Micro lacks."
                )
            low, high = high, high * 2
        while high - low > ARENA_ALIGNMENT:
            middle = (low + high) // 2 // ARENA_ALIGNMENT * ARENA_ALIGNMENT
            if middle <= low:
                break
            if _runs_in(model_file, middle):
                high = middle
            else:
                low = middle
    return high


def _c_string(text: str) -> str:
    """A C string literal of UTF-8 text; octal escapes keep the source ASCII."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _quantization(detail: dict) -> tuple[float, int]:
    q = detail["quantization_parameters"]
    return float(q["scales"][0]), int(q["zero_points"][0])


def _header(metadata: dict, input_detail: dict, output_detail: dict) -> str:
    height, width, channels = metadata["preprocessing"]["input_shape"]
    in_scale, in_zero = _quantization(input_detail)
    out_scale, out_zero = _quantization(output_detail)
    return f"""// The model exported by kerascnn from {metadata["source"]}, as C++ data.
// Generated file: export the model again rather than edit it.
#ifndef KERASCNN_MODEL_DATA_H_
#define KERASCNN_MODEL_DATA_H_

// The .tflite flatbuffer: pass it to tflite::GetModel(g_model).
extern const unsigned char g_model[];
extern const unsigned int g_model_len;

namespace kerascnn {{

// Input: one {height}x{width}x{channels} image, int8, channels last. A raw
// 0-255 pixel p becomes round(p / kInputScale) + kInputZeroPoint; the model
// rescales it in its own graph.
constexpr int kInputHeight = {height};
constexpr int kInputWidth = {width};
constexpr int kInputChannels = {channels};
constexpr float kInputScale = {in_scale!r}f;
constexpr int kInputZeroPoint = {in_zero};

// Output: one int8 score a class; probability = (q - kOutputZeroPoint) * kOutputScale.
constexpr float kOutputScale = {out_scale!r}f;
constexpr int kOutputZeroPoint = {out_zero};

constexpr int kNumClasses = {len(metadata["class_names"])};
// The name of each class, index = class, UTF-8.
extern const char* const kClassNames[kNumClasses];

}}  // namespace kerascnn

#endif  // KERASCNN_MODEL_DATA_H_
"""


def _source(flatbuffer: bytes, metadata: dict) -> str:
    rows = [
        "  " + ", ".join(f"0x{byte:02x}" for byte in flatbuffer[start : start + 12]) + ","
        for start in range(0, len(flatbuffer), 12)
    ]
    names = ",\n".join(f"    {_c_string(name)}" for name in metadata["class_names"])
    return (
        '#include "model_data.h"\n\n'
        "// 16-byte aligned: TFLite Micro reads the flatbuffer in place.\n"
        "alignas(16) const unsigned char g_model[] = {\n"
        + "\n".join(rows)
        + f"\n}};\nconst unsigned int g_model_len = {len(flatbuffer)};\n\n"
        "namespace kerascnn {\n\n"
        f"const char* const kClassNames[kNumClasses] = {{\n{names}\n}};\n\n"
        "}  // namespace kerascnn\n"
    )


def _resolver(ops: list[str]) -> str:
    adds = "\n".join(f"  TF_LITE_ENSURE_STATUS(resolver.{RESOLVER_METHODS[op]}());" for op in ops)
    return f"""// The operators of the model in model_data.cc, and no others.
// Generated file: export the model again rather than edit it.
#ifndef KERASCNN_OP_RESOLVER_H_
#define KERASCNN_OP_RESOLVER_H_

#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace kerascnn {{

constexpr int kNumOps = {len(ops)};
using OpResolver = tflite::MicroMutableOpResolver<kNumOps>;

// Adds {", ".join(ops)}.
inline TfLiteStatus RegisterOps(OpResolver& resolver) {{
{adds}
  return kTfLiteOk;
}}

}}  // namespace kerascnn

#endif  // KERASCNN_OP_RESOLVER_H_
"""


def write_micro(flatbuffer: bytes, ops: list[str], directory: Path, metadata: dict) -> dict:
    """Writes the `micro/` folder for an int8 flatbuffer; returns its figures.

    Args:
        flatbuffer: A full-integer (int8 input and output) `.tflite` model.
        ops: Its operator names (`tflite.op_names`).
        directory: The `micro/` folder to fill.
        metadata: The model's artifact metadata (class names, source, input shape).

    Raises:
        ExportError: an operator TFLite Micro has no kernel for (named), or
            a model that cannot be set up in TFLite Micro.
    """
    missing = [op for op in ops if op not in RESOLVER_METHODS]
    if missing:
        raise ExportError(
            f"TFLite Micro has no kernel for {', '.join(missing)}, which model "
            f"'{metadata['model']}' needs; replace the layers that produce them (the report "
            "of a TFLite export lists each artifact's ops)."
        )
    arena = smallest_arena(flatbuffer)
    interpreter = _runtime().Interpreter.from_bytes(flatbuffer, arena_size=arena)
    input_detail, output_detail = (
        interpreter.get_input_details(0),
        interpreter.get_output_details(0),
    )
    if np.dtype(input_detail["dtype"]) != np.int8 or np.dtype(output_detail["dtype"]) != np.int8:
        raise ExportError("The micro format needs a model with int8 input and output.")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.tflite").write_bytes(flatbuffer)
    (directory / "model_data.h").write_text(
        _header(metadata, input_detail, output_detail), encoding="ascii"
    )
    (directory / "model_data.cc").write_text(_source(flatbuffer, metadata), encoding="ascii")
    (directory / "op_resolver.h").write_text(_resolver(ops), encoding="ascii")
    # For Python tools (`kerascnn evaluate micro/`): what the header declares.
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    figures = {"flash_bytes": len(flatbuffer), "arena_bytes": arena, "ops": ops, "parity": None}
    write_figures(directory, figures)
    return figures


def write_figures(directory: Path, figures: dict) -> None:
    (directory / FIGURES_FILE).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def read_figures(directory: Path) -> dict:
    return json.loads((Path(directory) / FIGURES_FILE).read_text(encoding="utf-8"))


class MicroRunner:
    """Runs a `micro/` export in TFLite Micro's interpreter, in its own
    `arena_bytes`, one image at a time as a microcontroller would."""

    def __init__(self, directory: str | Path):
        directory = Path(directory)
        figures = read_figures(directory)
        self._interpreter = _runtime().Interpreter.from_bytes(
            (directory / "model.tflite").read_bytes(), arena_size=figures["arena_bytes"]
        )
        self._input = self._interpreter.get_input_details(0)
        self._output = self._interpreter.get_output_details(0)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        from kerascnn.export.runtimes import dequantize, quantize

        # In LiteRT's form, which quantize/dequantize read.
        source, target = (
            {"dtype": detail["dtype"], "quantization": _quantization(detail)}
            for detail in (self._input, self._output)
        )
        outputs = []
        for image in np.asarray(images, dtype="float32"):
            self._interpreter.set_input(quantize(image[None], source), 0)
            self._interpreter.invoke()
            outputs.append(dequantize(self._interpreter.get_output(0), target)[0])
        return np.stack(outputs)
