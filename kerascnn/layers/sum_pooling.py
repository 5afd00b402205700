"""Sum pooling: each output is the sum of the input values in its window."""

from __future__ import annotations

import keras
from keras import ops

from kerascnn.layers._arguments import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)
from kerascnn.sliding_window import output_length


class BaseSumPooling(keras.layers.Layer):
    """Sum pooling over 1, 2 or 3 spatial dimensions.

    The arguments, defaults and output shapes are those of Keras'
    `AveragePooling{1,2,3}D`; only the reduction differs. With
    `padding="same"` the padded positions count as zeros, so a window on the
    border sums only its in-bounds values (average pooling instead divides by
    the in-bounds count, which is why `average * pool_area` is not a sum
    pooling at the border).

    NOTE: the sum is computed as a depthwise convolution with a kernel of
    ones. It is exact by construction for both paddings, costs less than
    average pooling in a CPU training step (its gradient is cheaper; see
    benchmarks/layers.py), and converts to a single `DEPTHWISE_CONV_2D` in
    TFLite, which int8 delegates run well (average pooling times the window
    area would lower to `AVERAGE_POOL_2D` + `MUL`). 3D inputs (no depthwise
    convolution exists) and unequal strides (TensorFlow's depthwise kernel
    refuses them) fold the channels into the batch and use a one-channel
    convolution instead.

    Args:
        pool_size: Int or tuple of ints, the window size.
        strides: Int, tuple of ints or None. Defaults to `pool_size`.
        padding: "valid" (whole windows only) or "same" (zero padded so that
            the output length is `ceil(input_length / stride)`).
        data_format: "channels_last" or "channels_first"; defaults to
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments such as `name` and `dtype`.
    """

    def __init__(
        self,
        pool_size,
        strides=None,
        padding="valid",
        data_format=None,
        *,
        pool_dimensions: int,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.pool_dimensions = pool_dimensions
        self.pool_size = normalize_tuple(pool_size, pool_dimensions, "pool_size")
        self.strides = (
            self.pool_size
            if strides is None
            else normalize_tuple(strides, pool_dimensions, "strides")
        )
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = keras.layers.InputSpec(ndim=pool_dimensions + 2)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"{self.__class__.__name__} needs a known channel dimension "
                f"(axis {self._channel_axis} with data_format="
                f"'{self.data_format}'). Received: input_shape={input_shape}"
            )
        self.input_spec = keras.layers.InputSpec(
            ndim=self.pool_dimensions + 2, axes={self._channel_axis: channels}
        )

    def call(self, inputs):
        if self.pool_dimensions == 3 or len(set(self.strides)) > 1:
            return self._sum_pool_folded(inputs)
        channels = inputs.shape[self._channel_axis]
        kernel = ops.ones((*self.pool_size, channels, 1), dtype=inputs.dtype)
        return ops.depthwise_conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
        )

    def _sum_pool_folded(self, inputs):
        """Sum pooling as a one-channel convolution over channels folded into the batch."""
        dims = self.pool_dimensions
        if self.data_format == "channels_last":
            inputs = ops.transpose(inputs, (0, dims + 1, *range(1, dims + 1)))
        shape = ops.shape(inputs)
        folded = ops.reshape(inputs, (-1, *shape[2:], 1))
        kernel = ops.ones((*self.pool_size, 1, 1), dtype=inputs.dtype)
        pooled = ops.conv(
            folded, kernel, strides=self.strides, padding=self.padding, data_format="channels_last"
        )
        outputs = ops.reshape(pooled, (shape[0], shape[1], *ops.shape(pooled)[1:-1]))
        if self.data_format == "channels_last":
            outputs = ops.transpose(outputs, (0, *range(2, dims + 2), 1))
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        spatial_axes = (
            range(1, self.pool_dimensions + 1)
            if self.data_format == "channels_last"
            else range(2, self.pool_dimensions + 2)
        )
        output_shape = list(input_shape)
        for axis, pool, stride in zip(spatial_axes, self.pool_size, self.strides, strict=True):
            length = output_length(input_shape[axis], pool, stride, self.padding)
            if length is not None and length < 1:
                raise ValueError(
                    f"{self.__class__.__name__} with pool_size={self.pool_size} "
                    f"and padding='valid' needs every spatial dimension to be "
                    f"at least the pool size; use padding='same' or a smaller "
                    f"pool_size. Received: input_shape={input_shape}"
                )
            output_shape[axis] = length
        return tuple(output_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="kerascnn")
class SumPooling1D(BaseSumPooling):
    """Sum pooling for temporal data: `(batch, steps, channels)`.

    Args:
        pool_size: Int, the window length.
        strides: Int or None; defaults to `pool_size`.
        padding: "valid" or "same" (zeros outside the input).
        data_format: "channels_last" or "channels_first".

    Example:
    >>> x = np.array([[[1.0], [2.0], [3.0], [4.0], [5.0]]])
    >>> SumPooling1D(pool_size=2, padding="same")(x)[0, :, 0]  # [3, 7, 5]
    """

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(
            pool_size, strides, padding, data_format, pool_dimensions=1, name=name, **kwargs
        )


@keras.saving.register_keras_serializable(package="kerascnn")
class SumPooling2D(BaseSumPooling):
    """Sum pooling for images: `(batch, height, width, channels)`.

    Args:
        pool_size: Int or tuple of 2 ints, the window size.
        strides: Int, tuple of 2 ints or None; defaults to `pool_size`.
        padding: "valid" or "same" (zeros outside the input).
        data_format: "channels_last" or "channels_first".

    Example:
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> SumPooling2D(2)(x)[0, :, :, 0]  # [[10, 18], [42, 50]]
    """

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(
            pool_size, strides, padding, data_format, pool_dimensions=2, name=name, **kwargs
        )


@keras.saving.register_keras_serializable(package="kerascnn")
class SumPooling3D(BaseSumPooling):
    """Sum pooling for volumes: `(batch, depth, height, width, channels)`.

    Args:
        pool_size: Int or tuple of 3 ints, the window size.
        strides: Int, tuple of 3 ints or None; defaults to `pool_size`.
        padding: "valid" or "same" (zeros outside the input).
        data_format: "channels_last" or "channels_first".

    Example:
    >>> x = np.ones((1, 4, 4, 4, 1), "float32")
    >>> SumPooling3D(2)(x).shape  # (1, 2, 2, 2, 1), every value 8
    """

    def __init__(
        self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs
    ):
        super().__init__(
            pool_size, strides, padding, data_format, pool_dimensions=3, name=name, **kwargs
        )
