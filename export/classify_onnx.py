"""Classify an image file with a kerascnn `.onnx` export, using only ONNX Runtime.

The model carries its class names and preprocessing in `metadata_props`:

    python export/classify_onnx.py model.opset17.onnx digit.png --top 3

Needs: onnxruntime, NumPy, Pillow. Not kerascnn, not TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import sys

import onnxruntime
from image_input import load_image, print_answer, top_k


def classify(model_path: str, image_path: str, k: int = 5) -> list:
    """[(class name, probability), ...] for one image, best first."""
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    metadata = json.loads(session.get_modelmeta().custom_metadata_map["kerascnn"])
    pixels = load_image(image_path, metadata["preprocessing"])
    name = session.get_inputs()[0].name
    output = session.run(None, {name: pixels})[0][0]
    return top_k(output, metadata["class_names"], k)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .onnx exported by kerascnn")
    parser.add_argument("image", help="an image file (PNG, JPEG, ...)")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    print_answer(classify(args.model, args.image, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
