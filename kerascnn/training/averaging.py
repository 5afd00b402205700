"""Scoring and saving a moving average of the weights (Polyak averaging).

Keras' optimizers keep the average (`use_ema=True`) and its `SwapEMAWeights`
callback swaps it in for validation, but batch norm then normalises with
the moving statistics it gathered for the *trained* weights, which the
average does not match while the weights still move: `tinyvgg_8k_full` on
MNIST (AdamW 3e-3, momentum 0.999) validated at 9.8% after two epochs and
57% after four, with 98% training accuracy. As PyTorch's `swa_utils.update_bn`
does for averaged models, `AveragedWeights` recomputes batch norm's
statistics for the average before scoring or saving it.

Keras also averages from the first step at full momentum, which keeps the
untrained weights in the average for thousands of steps: runs that average
train with `kerascnn.optimizers`, which ramp the momentum up.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np


def recalibrate_batch_norm(model: keras.Model, dataset, max_images: int = 2048) -> None:
    """Sets the moving statistics of trainable batch norm layers to those of
    the training images ("precise BN", Wu and Johnson 2021).

    With a few labelled images a run has a few hundred steps, too few for
    the moving averages (momentum 0.99) to catch up with weights that moved
    a lot: such a model can fit its training images and still be near
    chance in inference mode. One pass over up to `max_images` training
    images, with the momentum at zero, gives every layer the statistics of
    the data it was trained on. Frozen layers keep theirs.

    Args:
        model: The network.
        dataset: Its training batches of (images, labels), or an array of
            images.
        max_images: Images to compute the statistics on.
    """
    layers = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
    ]
    if not layers:
        return
    images = dataset if isinstance(dataset, np.ndarray) else _first_images(dataset, max_images)
    momenta = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(images[:max_images], training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def _first_images(dataset, count: int) -> np.ndarray:
    batches, seen = [], 0
    for images, *_ in dataset:
        batches.append(keras.ops.convert_to_numpy(images))
        seen += len(batches[-1])
        if seen >= count:
            break
    return np.concatenate(batches)[:count]


class AveragedWeights(keras.callbacks.Callback):
    """Validation scores, and `applied()` lends, the optimizer's moving
    average of the weights with batch norm statistics computed for it.

    The model keeps training its own weights and statistics: both are put
    back after each use.

    Args:
        train_data: Training batches; the first `max_images` images (taken
            once, here) give the average its batch norm statistics.
        max_images: How many.
        network: The network whose batch norm layers see those images, if
            not the fitted model itself (a `Distiller`'s student).

    Example:
    >>> average = AveragedWeights(data.train)
    >>> model.fit(data.train, validation_data=data.validation, callbacks=[average])
    >>> with average.applied():
    ...     model.save("averaged.keras")
    """

    def __init__(self, train_data, max_images: int = 2048, network: keras.Model | None = None):
        super().__init__()
        self.images = _first_images(train_data, max_images)
        self.network = network
        self._lent = None

    @contextlib.contextmanager
    def applied(self):
        """The model holds the average (and its statistics) for the duration."""
        optimizer = self.model.optimizer
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = optimizer.inner_optimizer
        own = [keras.ops.convert_to_numpy(v) for v in self.model.weights]
        optimizer.finalize_variable_values(self.model.trainable_variables)
        recalibrate_batch_norm(self.network or self.model, self.images)
        try:
            yield
        finally:
            for variable, value in zip(self.model.weights, own, strict=True):
                variable.assign(value)

    def on_test_begin(self, logs=None):
        self._lent = self.applied()
        self._lent.__enter__()

    def on_test_end(self, logs=None):
        lent, self._lent = self._lent, None
        lent.__exit__(None, None, None)
