"""Classify an image file with a kerascnn `.tflite` export, using only LiteRT.

The model carries its class names and preprocessing (a zip of associated
files appended to the flatbuffer), so nothing else is needed:

    python export/classify_tflite.py model.int8.tflite digit.png --top 3

Needs: ai-edge-litert, NumPy, Pillow. Not kerascnn, not TensorFlow.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from image_input import NotAKerascnnModel, load_image, quantize, run_command_line, top_k

METADATA = "kerascnn_metadata.json"


def read_metadata(path: str) -> dict:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if METADATA in archive.namelist():
                return json.loads(archive.read(METADATA))
    # A `--format micro` flatbuffer stays bare for firmware; its folder holds
    # the same metadata beside it.
    beside = Path(path).with_name(METADATA)
    if beside.is_file():
        return json.loads(beside.read_text(encoding="utf-8"))
    raise NotAKerascnnModel(
        f"model '{path}' carries no {METADATA}; pass a .tflite that kerascnn export "
        f"wrote, or keep {METADATA} beside a --format micro flatbuffer"
    )


def classify(model_path: str, image_path: str, k: int = 5) -> list:
    """[(class name, probability), ...] for one image, best first."""
    metadata = read_metadata(model_path)
    pixels = load_image(image_path, metadata["preprocessing"])
    interpreter = Interpreter(model_path=model_path, num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    if np.dtype(source["dtype"]).kind != "f":
        pixels = quantize(pixels, source["dtype"], *source["quantization"])
    interpreter.set_tensor(source["index"], pixels)
    interpreter.invoke()
    output = interpreter.get_tensor(target["index"])[0]
    if np.dtype(target["dtype"]).kind != "f":
        scale, zero_point = target["quantization"]
        output = (output.astype(np.float32) - zero_point) * scale
    return top_k(output, metadata["class_names"], k)


def main(argv=None) -> int:
    return run_command_line(classify, __doc__.splitlines()[0], ".tflite", argv)


if __name__ == "__main__":
    sys.exit(main())
