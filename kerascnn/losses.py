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


@keras.saving.register_keras_serializable(package="kerascnn")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy against integer labels, with label smoothing.

    Keras' `SparseCategoricalCrossentropy` has no `label_smoothing`; this
    loss makes the one-hot target of each label and hands it to
    `keras.losses.categorical_crossentropy`, which does: the target of label
    `k` becomes `1 - label_smoothing` at `k` plus `label_smoothing / classes`
    everywhere (Szegedy et al., "Rethinking the Inception architecture",
    2016), so the network is not pushed towards infinite confidence.

    Args:
        label_smoothing: In [0, 1); 0 is the plain cross-entropy.
        from_logits: Whether the predictions are logits, not probabilities.
        **kwargs: `keras.losses.Loss` arguments (`name`, `reduction`).

    Example:
    >>> loss = SmoothedSparseCategoricalCrossentropy(label_smoothing=0.1)
    >>> loss(np.array([1]), np.array([[0.2, 0.8]]))  # -(0.05 log 0.2 + 0.95 log 0.8)
    """

    def __init__(
        self,
        label_smoothing: float = 0.0,
        from_logits: bool = False,
        name="smoothed_sparse_categorical_crossentropy",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not 0 <= label_smoothing < 1:
            raise UsageError(
                "`label_smoothing` must be in [0, 1). "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        targets = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            targets, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


def classification_loss(activation: str, label_smoothing: float = 0.0) -> keras.losses.Loss:
    """The loss for integer class labels and a head with this activation:
    softmax -> sparse categorical cross-entropy; linear -> the same from
    logits; sigmoid -> binary cross-entropy against one-hot targets
    (`SparseBinaryCrossentropy`).

    Args:
        activation: The classifier's activation.
        label_smoothing: For softmax and linear heads, the share of each
            target spread evenly over the classes
            (`SmoothedSparseCategoricalCrossentropy`); 0 for none.

    Raises:
        ValueError: an activation no classification loss fits, or label
            smoothing asked of a sigmoid head.
    """
    if activation in ("softmax", "linear"):
        from_logits = activation == "linear"
        if label_smoothing:
            return SmoothedSparseCategoricalCrossentropy(label_smoothing, from_logits=from_logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    if activation == "sigmoid":
        if label_smoothing:
            raise UsageError(
                "Label smoothing spreads one label over the classes of a softmax head; a sigmoid "
                "head answers each class on its own: set label_smoothing to 0. "
                f"Received: label_smoothing={label_smoothing}"
            )
        return SparseBinaryCrossentropy()
    raise UsageError(
        "The classifier's activation must be softmax, sigmoid or linear (logits) to choose a "
        f"loss. Received: activation={activation!r}"
    )
