"""A Flatten whose exported graph is one reshape."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerascnn")
class Flatten(keras.layers.Flatten):
    """`keras.layers.Flatten` that leaves the batch size to the reshape.

    Keras' Flatten reshapes to (batch size read at run time, features), so
    an exported graph computes the batch size with SHAPE, STRIDED_SLICE and
    PACK ops, and SHAPE is not one the TFLite GPU delegate runs. Reshaping
    to (-1, features) is the same function, with the batch still free, in
    one RESHAPE. Other cases (channels first, unknown sizes) are Keras'.

    Args:
        data_format: "channels_last" or "channels_first".
        **kwargs: Base layer arguments such as `name` and `dtype`.

    Example:
    >>> Flatten()(np.zeros((2, 4, 4, 3))).shape  # (2, 48)
    """

    def call(self, inputs):
        features = tuple(inputs.shape[1:])
        if self.data_format == "channels_first" or not features or None in features:
            return super().call(inputs)
        return ops.reshape(inputs, (-1, math.prod(features)))
