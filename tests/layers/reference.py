"""Independent NumPy references for the layers (no Keras inside)."""

import itertools
import math

import numpy as np


def same_padding(length: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" rule: ceil(length / stride) outputs, extra pad after."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def sum_pool(x, pool_size, strides, padding, data_format="channels_last"):
    """Sums each window with explicit loops over output positions.

    `x` has shape (batch, *spatial, channels) or (batch, channels, *spatial).
    Positions outside the input (padding="same") count as zeros.
    """
    x = np.asarray(x, dtype=np.float64)
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    spatial = x.shape[1:-1]
    if padding == "same":
        pads = [same_padding(n, k, s) for n, k, s in zip(spatial, pool_size, strides)]
    else:
        pads = [(0, 0)] * len(spatial)
    padded = np.pad(x, [(0, 0), *pads, (0, 0)])
    out_sizes = [
        (n + before + after - k) // s + 1
        for n, (before, after), k, s in zip(spatial, pads, pool_size, strides)
    ]
    out = np.zeros((x.shape[0], *out_sizes, x.shape[-1]))
    for index in itertools.product(*(range(n) for n in out_sizes)):
        window = tuple(slice(i * s, i * s + k) for i, s, k in zip(index, strides, pool_size))
        out[(slice(None), *index, slice(None))] = padded[(slice(None), *window, slice(None))].sum(
            axis=tuple(range(1, len(spatial) + 1))
        )
    if data_format == "channels_first":
        out = np.moveaxis(out, -1, 1)
    return out


def conv2d(x, kernel, bias, padding):
    """NumPy 'same'/'valid' stride-1 convolution (cross-correlation) of a
    channels-last batch."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = np.pad(x, [(0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)])
    n, h, w, _ = x.shape
    out = np.zeros((n, h - kh + 1, w - kw + 1, kernel.shape[-1]))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            patch = x[:, i : i + kh, j : j + kw, :]
            out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return out + bias
