"""Shared by the standalone runners: an image file to the model's input,
and the top-k answer. Needs NumPy and Pillow only (no kerascnn, no
TensorFlow)."""

from __future__ import annotations

import argparse
import os

import numpy as np
from PIL import Image, UnidentifiedImageError


class NotAKerascnnModel(ValueError):
    """The model file is not one kerascnn exported: it carries no class names
    or preprocessing to answer with."""


def load_image(path: str, preprocessing: dict) -> np.ndarray:
    """A (1, H, W, C) float32 array of raw 0-255 pixels, as the artifact expects.

    The exported models rescale in their graph, so only the size and the
    channel count are adapted here (bilinear resize, like kerascnn.data).
    """
    height, width, channels = preprocessing["input_shape"]
    image = Image.open(path).convert("L" if channels == 1 else "RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32)
    if channels == 1:
        pixels = pixels[..., None]
    return pixels[None]


def quantize(values: np.ndarray, dtype, scale: float, zero_point: int) -> np.ndarray:
    """Float values to an integer input tensor (int8/uint8 TFLite models)."""
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)


def top_k(probabilities: np.ndarray, class_names: list, k: int) -> list:
    """[(class name, probability), ...], best first."""
    order = np.argsort(-probabilities)[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]


def run_command_line(classify, description: str, suffix: str, argv=None) -> int:
    """`runner MODEL IMAGE [--top K]`: prints "class<TAB>probability" lines, best first."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("model", help=f"a {suffix} exported by kerascnn")
    parser.add_argument("image", help="an image file (PNG, JPEG, ...)")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.model):
        parser.error(
            f"model '{args.model}' is not a file; pass the {suffix} that kerascnn export wrote"
        )
    if not os.path.isfile(args.image):
        parser.error(f"image '{args.image}' is not a file; pass a PNG or JPEG to classify")
    if args.top < 1:
        parser.error(f"--top must be 1 or more. Received: --top={args.top}")
    try:
        answers = classify(args.model, args.image, args.top)
    except UnidentifiedImageError:
        parser.error(f"image '{args.image}' is not an image Pillow can read; pass a PNG or JPEG")
    except NotAKerascnnModel as error:
        parser.error(str(error))
    for name, probability in answers:
        print(f"{name}\t{probability:.4f}")
    return 0
