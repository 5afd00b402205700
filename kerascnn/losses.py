"""The loss a classifier trains with, chosen by its head's activation."""

from __future__ import annotations

import keras
from keras import ops

from kerascnn.errors import UsageError


@keras.saving.register_keras_serializable(package="kerascnn")
class SparseBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy of a sigmoid head against integer labels.

    Each class's sigmoid is its own yes/no question, so the target of an
    image labelled `k` is the multi-hot vector with a single 1 at `k`:
    every other class is a "no". The mean over classes is what
    `keras.losses.BinaryCrossentropy` gives for that one-hot vector.

    Args:
        from_logits: Whether the predictions are logits, not probabilities.
        **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`).

    Example:
    >>> loss = SparseBinaryCrossentropy()
    >>> loss(np.array([1]), np.array([[0.2, 0.9]]))  # mean(-log 0.8, -log 0.9)
    """

    def __init__(self, from_logits: bool = False, name="sparse_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        targets = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.binary_crossentropy(targets, y_pred, from_logits=self.from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


def classification_loss(activation: str) -> keras.losses.Loss:
    """The loss for integer class labels and a head with this activation:
    softmax -> sparse categorical cross-entropy; linear -> the same from
    logits; sigmoid -> binary cross-entropy against one-hot targets
    (`SparseBinaryCrossentropy`).

    Raises:
        ValueError: an activation no classification loss fits.
    """
    if activation == "softmax":
        return keras.losses.SparseCategoricalCrossentropy()
    if activation == "linear":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if activation == "sigmoid":
        return SparseBinaryCrossentropy()
    raise UsageError(
        "The classifier's activation must be softmax, sigmoid or linear (logits) to choose a "
        f"loss. Received: activation={activation!r}"
    )
