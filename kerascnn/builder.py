"""Builds Keras models from `ConvNetSpec`s."""

from __future__ import annotations

import keras

from kerascnn.layers import (
    Flatten,
    GlobalSumPooling2D,
    RectifiedFeatureMap,
    RGBToGrayscale,
    SumPooling2D,
)
from kerascnn.spec import ConvBlockSpec, ConvNetSpec, HeadSpec

_POOLING_LAYERS = {
    "max": keras.layers.MaxPooling2D,
    "sum": SumPooling2D,
    "average": keras.layers.AveragePooling2D,
}
_GLOBAL_POOLING_LAYERS = {
    "global_average": keras.layers.GlobalAveragePooling2D,
    "global_max": keras.layers.GlobalMaxPooling2D,
    "global_sum": GlobalSumPooling2D,
}


def _conv_block(x, block: ConvBlockSpec, number: int):
    prefix = f"block{number}"
    # A bias before batch normalisation is cancelled by its mean.
    use_bias = not block.batch_norm

    def normalize_and_rectify(x, name):
        if block.batch_norm:
            x = keras.layers.BatchNormalization(name=f"{prefix}_{name.format('bn')}")(x)
        return RectifiedFeatureMap(name=f"{prefix}_{name.format('relu')}")(x)

    for j in range(1, block.convs + 1):
        if block.conv_type == "depthwise_separable":
            # MobileNet v1: each factor has its own normalisation and ReLU.
            x = keras.layers.DepthwiseConv2D(
                block.kernel_size,
                strides=block.strides,
                padding=block.padding,
                use_bias=use_bias,
                name=f"{prefix}_dwconv{j}",
            )(x)
            x = normalize_and_rectify(x, f"dw{{}}{j}")
            kernel_size, strides, padding = 1, 1, "valid"
        else:
            kernel_size, strides, padding = block.kernel_size, block.strides, block.padding
        x = keras.layers.Conv2D(
            block.filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=use_bias,
            name=f"{prefix}_conv{j}",
        )(x)
        x = normalize_and_rectify(x, f"{{}}{j}")
    if block.pooling != "none":
        x = _POOLING_LAYERS[block.pooling](
            pool_size=block.pool_size,
            strides=block.effective_pool_strides,
            padding=block.pool_padding,
            name=f"{prefix}_pool",
        )(x)
    if block.dropout:
        x = keras.layers.Dropout(block.dropout, name=f"{prefix}_dropout")(x)
    return x


def _head(x, head: HeadSpec):
    if head.pooling == "flatten":
        x = Flatten(name="flatten")(x)
    else:
        x = _GLOBAL_POOLING_LAYERS[head.pooling](name="global_pool")(x)
    for k, units in enumerate(head.dense, start=1):
        if head.dropout:
            x = keras.layers.Dropout(head.dropout, name=f"fc{k}_dropout")(x)
        x = keras.layers.Dense(units, activation="relu", name=f"fc{k}")(x)
    if head.dropout:
        x = keras.layers.Dropout(head.dropout, name="predictions_dropout")(x)
    # NOTE: float32 so that softmax stays stable under mixed precision.
    return keras.layers.Dense(
        head.num_classes, activation=head.activation, name="predictions", dtype="float32"
    )(x)


def _network(spec: ConvNetSpec):
    """The input and the output of the network a spec describes."""
    image = keras.Input(
        shape=(spec.input.height, spec.input.width, spec.input.channels),
        dtype="float32",
        name="image",
    )
    x = keras.layers.Rescaling(spec.input.scale, spec.input.offset, name="rescale")(image)
    if spec.input.grayscale:
        x = RGBToGrayscale(name="grayscale")(x)
    for number, block in enumerate(spec.blocks, start=1):
        x = _conv_block(x, block, number)
    return image, _head(x, spec.head)


@keras.saving.register_keras_serializable(package="kerascnn")
class ConvNet(keras.Model):
    """A functional Keras model built from a `ConvNetSpec`.

    It takes raw pixels (0-255, float32, channels last), preprocesses them
    in the graph, applies the conv-ReLU-pool blocks and the head. Layer names
    are stable: `rescale`, `grayscale`, `block1_conv1`, `block1_bn1`,
    `block1_relu1`, `block1_pool`, `block1_dropout`, ..., (depthwise-separable
    blocks add `block1_dwconv1`, `block1_dwbn1`, `block1_dwrelu1` before
    the 1x1 `block1_conv1`), `flatten` or
    `global_pool`, `fc1`, `predictions`.

    Its config is the spec and the dtype policy, so a saved model rebuilds
    from data, in the precision it was trained in, and `model.spec` is there
    after loading.

    Args:
        spec: A `ConvNetSpec` or its dict.
        dtype: Dtype policy of the layers ("float32", "mixed_float16",
            "mixed_bfloat16"); None means the global policy. The classifier
            always computes in float32.
        **kwargs: Passed to `keras.Model` (for example `trainable`).
    """

    def __init__(self, spec: ConvNetSpec | dict, dtype=None, **kwargs):
        spec = spec if isinstance(spec, ConvNetSpec) else ConvNetSpec.from_dict(spec)
        kwargs.pop("name", None)  # the spec names the model
        previous = keras.config.dtype_policy()
        policy = keras.dtype_policies.get(dtype) if dtype is not None else previous
        keras.config.set_dtype_policy(policy)
        try:
            image, outputs = _network(spec)
        finally:
            keras.config.set_dtype_policy(previous)
        super().__init__(inputs=image, outputs=outputs, name=spec.name, **kwargs)
        self.spec = spec
        self.policy_name = policy.name

    def get_config(self):
        return {"spec": self.spec.to_dict(), "dtype": self.policy_name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_model(spec: ConvNetSpec | dict, dtype=None) -> ConvNet:
    """Builds the Keras model a spec describes.

    Args:
        spec: A `ConvNetSpec`, or its dict (as from `ConvNetSpec.to_dict`).
        dtype: Dtype policy of the layers; None means the global policy.

    Returns:
        A `ConvNet` (a functional `keras.Model`) taking raw pixels.

    Example:
    >>> model = build_model(ConvNetSpec(blocks=[{"filters": 8}]))
    >>> model.get_layer("block1_relu1")
    <RectifiedFeatureMap name=block1_relu1, built=True>
    """
    return ConvNet(spec, dtype=dtype)


def is_rectified_map(layer: keras.layers.Layer) -> bool:
    """Whether a layer outputs a rectified feature map: a
    `RectifiedFeatureMap` or `ReLU` layer on a 2D map (batch, h, w, c).
    Inspection shows these maps and exports serve them."""
    return isinstance(layer, (RectifiedFeatureMap, keras.layers.ReLU)) and (
        len(layer.output.shape) == 4
    )


def class_names(model: keras.Model) -> list[str]:
    """The names of the classes a model predicts: those the zoo gave it
    (`model.class_names`, e.g. a preset's), else "0", "1", ..."""
    count = int(model.outputs[0].shape[-1])
    return list(getattr(model, "class_names", None) or [str(i) for i in range(count)])
