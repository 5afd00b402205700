"""RGB to grayscale conversion inside the graph."""

from __future__ import annotations

import keras
from keras import ops

from kerascnn.layers._arguments import normalize_data_format

# ITU-R BT.601 luma weights, as used by tf.image.rgb_to_grayscale and
# keras.ops.image.rgb_to_grayscale.
LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)


@keras.saving.register_keras_serializable(package="kerascnn")
class RGBToGrayscale(keras.layers.Layer):
    """Converts 3-channel RGB images to one luminance channel.

    Part of a model's preprocessing, so that a model trained on grayscale
    images accepts RGB pixels, in Keras and in every exported artifact. It
    is a weighted sum over channels (a 1x1 convolution with fixed weights).

    Args:
        data_format: "channels_last" or "channels_first".
        **kwargs: Base layer arguments such as `name` and `dtype`.

    Example:
    >>> RGBToGrayscale()(np.full((1, 2, 2, 3), 255.0)).shape  # (1, 2, 2, 1)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = keras.layers.InputSpec(min_ndim=3, axes={axis: 3})

    def call(self, inputs):
        weights = ops.convert_to_tensor(LUMA_WEIGHTS, dtype=inputs.dtype)
        if self.data_format == "channels_last":
            return ops.expand_dims(ops.tensordot(inputs, weights, axes=[[-1], [0]]), -1)
        return ops.expand_dims(ops.tensordot(inputs, weights, axes=[[1], [0]]), 1)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[-1 if self.data_format == "channels_last" else 1] = 1
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
