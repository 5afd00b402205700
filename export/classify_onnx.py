"""Classify an image file with a kerascnn `.onnx` export, using only ONNX Runtime.

The model carries its class names and preprocessing in `metadata_props`:

    python export/classify_onnx.py model.opset17.onnx digit.png --top 3

Needs: onnxruntime, NumPy, Pillow. Not kerascnn, not TensorFlow.
"""

from __future__ import annotations

import json
import sys

import onnxruntime
from image_input import NotAKerascnnModel, load_image, run_command_line, top_k
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidProtobuf


def classify(model_path: str, image_path: str, k: int = 5) -> list:
    """[(class name, probability), ...] for one image, best first."""
    with open(model_path, "rb") as f:  # bytes: any file name, UTF-8 or not
        try:
            session = onnxruntime.InferenceSession(f.read(), providers=["CPUExecutionProvider"])
        except InvalidProtobuf:
            raise NotAKerascnnModel(
                f"model '{model_path}' is not an ONNX file; pass the .onnx that kerascnn "
                "export wrote"
            ) from None
    metadata = session.get_modelmeta().custom_metadata_map.get("kerascnn")
    if metadata is None:
        raise NotAKerascnnModel(
            f"model '{model_path}' carries no kerascnn metadata; pass the .onnx that "
            "kerascnn export wrote"
        )
    metadata = json.loads(metadata)
    pixels = load_image(image_path, metadata["preprocessing"])
    name = session.get_inputs()[0].name
    # By name: an export made with --feature-maps has more outputs than this one.
    output = session.run([metadata["output"]["name"]], {name: pixels})[0][0]
    return top_k(output, metadata["class_names"], k)


def main(argv=None) -> int:
    return run_command_line(classify, __doc__.splitlines()[0], ".onnx", argv)


if __name__ == "__main__":
    sys.exit(main())
