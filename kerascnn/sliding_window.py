"""The output length of a sliding window (convolution or pooling).

Pure Python, shared by the layers and by `ConvNetSpec`'s validation so that
both follow the one rule Keras and TensorFlow use.
"""

from __future__ import annotations

import math


def output_length(length: int | None, window: int, stride: int, padding: str) -> int | None:
    """Positions a window of `window` moved by `stride` takes along one axis.

    "valid" keeps only whole windows; "same" zero pads so that there are
    `ceil(length / stride)` outputs. Returns None for an unknown length and
    a value below 1 when no window fits.

    Example:
    >>> output_length(28, 5, 1, "valid"), output_length(28, 3, 2, "same")
    (24, 14)
    """
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return (length - window) // stride + 1
