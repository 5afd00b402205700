"""Keras callbacks that report what the network's feature maps do."""

from __future__ import annotations

import keras
import numpy as np

from kerascnn.errors import UsageError
from kerascnn.layers import RectifiedFeatureMap, rectified_map_layers


class FeatureMapStatistics(keras.callbacks.Callback):
    """Logs statistics of every rectified feature map during training.

    At the end of an epoch it runs a fixed probe batch through the model in
    inference mode and adds, per rectified feature map
    (`kerascnn.layers.is_rectified_map`), entries such as
    `block1_relu1_sparsity` and `block1_relu1_mean_activation` to the epoch's
    logs, so they appear in the progress bar, `History`, `CSVLogger` and
    TensorBoard like any metric. The training step itself is unchanged: the
    statistics cost one forward pass of the probe batch per epoch, on every
    Keras backend.

    Args:
        images: A batch of raw input images (array or tensor), the probe.
        statistics: Which of `RectifiedFeatureMap.statistics()` to log.
        every_n_epochs: Log every n-th epoch.

    Example:
    >>> model.fit(x, y, callbacks=[FeatureMapStatistics(x[:256])])
    """

    def __init__(
        self,
        images,
        statistics=("sparsity", "mean_activation"),
        every_n_epochs: int = 1,
    ):
        super().__init__()
        known = ("sparsity", "mean_activation", "max_activation", "dead_channel_fraction")
        unknown = [s for s in statistics if s not in known]
        if unknown:
            raise UsageError(
                f"Unknown statistics {unknown}; choose from {list(known)}. "
                f"Received: statistics={statistics!r}"
            )
        if not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise UsageError(
                "`every_n_epochs` must be a positive integer. "
                f"Received: every_n_epochs={every_n_epochs!r}"
            )
        self.images = np.asarray(images)
        self.statistics = tuple(statistics)
        self.every_n_epochs = every_n_epochs
        self._probe = None

    def on_train_begin(self, logs=None):
        layers = rectified_map_layers(self.model)
        if not layers:
            raise UsageError(
                f"Model '{self.model.name}' has no rectified feature map to report on; use "
                "kerascnn.layers.RectifiedFeatureMap (or keras.layers.ReLU) as the layer after "
                "each convolution, not activation='relu' inside Conv2D."
            )
        try:
            outputs = [layer.output for layer in layers]
        except (AttributeError, ValueError) as error:
            raise UsageError(
                "FeatureMapStatistics needs a functional or Sequential model whose "
                f"feature maps are graph outputs; model '{self.model.name}' is not one: {error}"
            ) from None
        # Named outputs: a one-output model would return its tensor, not a list.
        self._probe = keras.Model(
            self.model.input, {layer.name: out for layer, out in zip(layers, outputs)}
        )

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or (epoch + 1) % self.every_n_epochs:
            return
        maps = self._probe(self.images, training=False)
        for name, fmap in maps.items():
            stats = RectifiedFeatureMap.statistics(fmap)
            for key in self.statistics:
                logs[f"{name}_{key}"] = float(keras.ops.convert_to_numpy(stats[key]))
