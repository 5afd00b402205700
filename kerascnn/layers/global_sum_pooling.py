"""Global sum pooling: each channel summed over all spatial positions."""

from __future__ import annotations

import keras
from keras import ops

from kerascnn.layers._arguments import normalize_data_format


class BaseGlobalSumPooling(keras.layers.Layer):
    """Sums each channel over every spatial position.

    Same arguments and shapes as Keras' `GlobalAveragePooling{1,2,3}D`.

    Args:
        data_format: "channels_last" or "channels_first"; defaults to
            `keras.config.image_data_format()`.
        keepdims: If True, the spatial axes are kept with length 1.
        **kwargs: Base layer arguments such as `name` and `dtype`.
    """

    def __init__(self, data_format=None, keepdims=False, *, pool_dimensions: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(keepdims, bool):
            raise ValueError(f"`keepdims` must be True or False. Received: keepdims={keepdims!r}")
        self.pool_dimensions = pool_dimensions
        self.data_format = normalize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = keras.layers.InputSpec(ndim=pool_dimensions + 2)

    @property
    def _spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.pool_dimensions))

    def call(self, inputs):
        return ops.sum(inputs, axis=self._spatial_axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = list(input_shape)
        if self.keepdims:
            for axis in self._spatial_axes:
                input_shape[axis] = 1
            return tuple(input_shape)
        return tuple(d for axis, d in enumerate(input_shape) if axis not in self._spatial_axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


@keras.saving.register_keras_serializable(package="kerascnn")
class GlobalSumPooling1D(BaseGlobalSumPooling):
    """Global sum pooling for temporal data.

    Supports Keras masking: masked time steps are left out of the sum.

    Example:
    >>> GlobalSumPooling1D()(np.ones((2, 5, 3))).shape  # (2, 3), every value 5
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, pool_dimensions=1, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            step_axis = self._spatial_axes[0]
            channel_axis = 2 if step_axis == 1 else 1
            mask = ops.expand_dims(ops.cast(mask, inputs.dtype), channel_axis)
            inputs = inputs * mask
        return super().call(inputs)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="kerascnn")
class GlobalSumPooling2D(BaseGlobalSumPooling):
    """Global sum pooling for images.

    Example:
    >>> GlobalSumPooling2D(keepdims=True)(np.ones((2, 4, 4, 3))).shape  # (2, 1, 1, 3)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, pool_dimensions=2, **kwargs)


@keras.saving.register_keras_serializable(package="kerascnn")
class GlobalSumPooling3D(BaseGlobalSumPooling):
    """Global sum pooling for volumes.

    Example:
    >>> GlobalSumPooling3D()(np.ones((2, 2, 4, 4, 3))).shape  # (2, 3), every value 32
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, pool_dimensions=3, **kwargs)
