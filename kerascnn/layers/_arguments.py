"""Argument normalisation shared by the kerascnn layers.

Keras normalises pooling arguments with private helpers (`keras.src`); these
are the public-API equivalents, with errors that name the argument, the value
received and what would work.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

PADDINGS = ("valid", "same")


def normalize_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """Returns `value` as a tuple of `n` positive ints.

    Args:
        value: An int (repeated `n` times) or a sequence of `n` ints.
        n: Number of spatial dimensions.
        name: The argument's name, used in the error message.
    """
    if isinstance(value, bool):
        values = None
    elif isinstance(value, int):
        values = (value,) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
    else:
        values = None
    if (
        values is None
        or len(values) != n
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        or any(v < 1 for v in values)
    ):
        raise ValueError(
            f"`{name}` must be a positive integer or a tuple of {n} positive "
            f"integers. Received: {name}={value!r}"
        )
    return values


def normalize_padding(padding) -> str:
    """Returns `padding` lower-cased, or raises if it is not valid/same."""
    normalized = padding.lower() if isinstance(padding, str) else padding
    if normalized not in PADDINGS:
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    return normalized


def normalize_data_format(data_format) -> str:
    """Returns the data format, defaulting to Keras' image data format."""
    if data_format is None:
        return keras.config.image_data_format()
    normalized = data_format.lower() if isinstance(data_format, str) else data_format
    if normalized not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return normalized
