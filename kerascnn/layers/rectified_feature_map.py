"""The rectified feature map: a ReLU whose output is meant to be looked at."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerascnn")
class RectifiedFeatureMap(keras.layers.ReLU):
    """A ReLU that marks its output as an inspectable rectified feature map.

    In a conv-ReLU-pool block the ReLU output is the *rectified feature map*:
    the convolution's responses with every negative value set to zero.
    This layer computes exactly what `keras.layers.ReLU` computes (the same
    `max_value`, `negative_slope` and `threshold`), so predictions are
    identical to `keras.ops.relu` and an exported model holds a plain ReLU
    that converters fuse into the preceding convolution at no cost.

    What it adds is identity: inspection tools, callbacks and exporters find
    the rectified feature maps of any model by this class, and
    `statistics()` summarises one map without touching predictions.

    Args:
        max_value: Float >= 0 or None. Upper bound of the output (6.0 gives
            ReLU6). None means unbounded.
        negative_slope: Float >= 0. Slope below `threshold` (0 for a plain
            ReLU).
        threshold: Float >= 0. Values below it are rectified.
        **kwargs: Base layer arguments such as `name` and `dtype`.

    Example:
    >>> layer = RectifiedFeatureMap()
    >>> fmap = layer(np.array([[-2.0, 0.0, 3.0, -1.0]]))  # [[0, 0, 3, 0]]
    >>> RectifiedFeatureMap.statistics(fmap)["sparsity"]  # 0.75
    """

    is_rectified_feature_map = True

    @staticmethod
    def statistics(feature_map, channel_axis: int = -1) -> dict:
        """Summarises a rectified feature map (a batch of them).

        Args:
            feature_map: Tensor or array, the layer's output for a batch.
            channel_axis: The axis holding the channels (filters).

        Returns:
            A dict of scalar tensors:
            - `sparsity`: fraction of values that are exactly zero (what ReLU
              created by zeroing negative responses);
            - `mean_activation`: mean of all values;
            - `max_activation`: largest value;
            - `dead_channel_fraction`: fraction of channels that are zero at
              every position of every image in the batch (a "dying ReLU"
              sign when it stays high on real data).
        """
        fmap = ops.cast(ops.convert_to_tensor(feature_map), "float32")
        if fmap.ndim < 2:
            raise ValueError(
                f"A feature map needs a batch axis and a channel axis. Received: shape={fmap.shape}"
            )
        axis = channel_axis % fmap.ndim
        other_axes = tuple(a for a in range(fmap.ndim) if a != axis)
        is_zero = ops.cast(ops.equal(fmap, 0.0), "float32")
        channel_alive = ops.max(ops.abs(fmap), axis=other_axes) > 0
        return {
            "sparsity": ops.mean(is_zero),
            "mean_activation": ops.mean(fmap),
            "max_activation": ops.max(fmap),
            "dead_channel_fraction": 1.0 - ops.mean(ops.cast(channel_alive, "float32")),
        }


def is_rectified_map(layer: keras.layers.Layer) -> bool:
    """Whether a layer outputs a rectified feature map.

    The one answer that training callbacks, exporters and inspection share:
    a `RectifiedFeatureMap`, or a plain `keras.layers.ReLU`, applied to a 2D
    map (batch, height, width, channels). A ReLU fused into a convolution
    (`activation="relu"`) has no output of its own to look at, so it is not one.

    Example:
    >>> is_rectified_map(model.get_layer("block1_relu1"))
    True
    """
    if not isinstance(layer, keras.layers.ReLU):
        return False
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):  # never called: no output to look at
        return False


def rectified_map_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of `model` whose outputs are rectified feature maps
    (`is_rectified_map`), in graph order.

    Only the model's own layers count: a map inside a nested model is not
    an output of this model's graph, so nothing could read it from here.

    Example:
    >>> [layer.name for layer in rectified_map_layers(create_model("lenet5"))]
    ['block1_relu1', 'block2_relu1']
    """
    return [layer for layer in model.layers if is_rectified_map(layer)]
