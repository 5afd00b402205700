"""Feature maps and filters as arrays: what each conv-ReLU-pool step computes."""

from __future__ import annotations

import keras
import numpy as np

from kerascnn.builder import ConvNet, Step
from kerascnn.errors import UsageError
from kerascnn.layers import SumPooling2D, is_rectified_map

CONV_LAYERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
POOL_LAYERS = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, SumPooling2D)


def _source_conv(layer, producers: dict) -> str | None:
    """The convolution whose output `layer` rectifies: back through its
    inputs (batch norm, a shortcut's sum: its first input, the main path)."""
    while True:
        inputs = layer.input
        tensor = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        layer = producers.get(id(tensor))
        if layer is None or isinstance(layer, keras.layers.InputLayer):
            return None
        if isinstance(layer, CONV_LAYERS):
            return layer.name


def steps(model: keras.Model) -> list[Step]:
    """The conv -> ReLU -> pool steps of a model, in order.

    A `ConvNet` declares its steps, block by block (`model.roles.steps`).
    For another model each rectifying layer (`RectifiedFeatureMap` or
    `ReLU`) is a step; its convolution is the one whose output it
    rectifies, traced back through the graph (on a shortcut block's main
    path, not its 1x1 projection), and its pooling the first pooling layer
    after it, before the next convolution.
    """
    if isinstance(model, ConvNet):
        return list(model.roles.steps)
    producers = {id(layer.output): layer for layer in model.layers}
    found, current = [], None
    for layer in model.layers:
        if isinstance(layer, CONV_LAYERS):
            current = None
        elif is_rectified_map(layer):
            current = Step(_source_conv(layer, producers), layer.name, None)
            found.append(current)
        elif isinstance(layer, POOL_LAYERS) and current is not None and current.pooled is None:
            found[-1] = current = Step(current.conv, current.rectified, layer.name)
    if not found:
        raise UsageError(
            f"Model '{model.name}' has no RectifiedFeatureMap or ReLU layer with a 2D feature "
            "map, so it has no rectified feature maps to show. Use a kerascnn model or a "
            "functional model with ReLU layers (not activation='relu' inside Conv2D)."
        )
    return found


def map_layer_names(model: keras.Model) -> list[str]:
    """Every layer `feature_maps` can return, in graph order."""
    names = {name for step in steps(model) for name in step.layers}
    return [layer.name for layer in model.layers if layer.name in names]


def feature_maps(model: keras.Model, images, layers=None) -> dict[str, np.ndarray]:
    """The feature maps of a batch of images, computed in one forward pass.

    Args:
        model: A kerascnn model, or a functional Keras model with
            `RectifiedFeatureMap` or `ReLU` layers.
        images: Raw images as the model takes them, (N, H, W, C).
        layers: Layer names to return; default every step's convolution
            output, rectified feature map and pooled map.

    Returns:
        {layer name: array (N, h, w, channels)}, in the order asked (by
        default, graph order).

    Example:
    >>> maps = feature_maps(create_model("lenet5.mnist"), digits)
    >>> maps["block1_relu1"].shape   # (N, 28, 28, 6), every value >= 0
    """
    valid = map_layer_names(model)
    names = valid if layers is None else list(layers)
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise UsageError(
            f"Model '{model.name}' has no feature map named {', '.join(map(repr, unknown))}. "
            f"Valid layer names: {', '.join(valid)}"
        )
    probe = keras.Model(model.input, [model.get_layer(name).output for name in names])
    outputs = probe(np.asarray(images, dtype="float32"), training=False)
    if len(names) == 1:
        outputs = [outputs]
    return {name: keras.ops.convert_to_numpy(value) for name, value in zip(names, outputs)}


def filters(model: keras.Model) -> dict[str, np.ndarray]:
    """The learned convolution kernels by layer name, (kh, kw, in, out).

    Depthwise kernels are (kh, kw, channels, multiplier).
    """
    return {
        layer.name: keras.ops.convert_to_numpy(layer.kernel)
        for layer in model.layers
        if isinstance(layer, CONV_LAYERS)
    }
