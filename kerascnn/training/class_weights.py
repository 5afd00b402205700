"""Class weights for data sets whose classes have unequal numbers of images."""

from __future__ import annotations

import numpy as np

from kerascnn.errors import UsageError


def class_counts(dataset, num_classes: int) -> np.ndarray:
    """How many examples of each class a `(images, labels)` dataset yields."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for labels in dataset.map(lambda images, labels: labels):
        counts += np.bincount(np.asarray(labels).reshape(-1), minlength=num_classes)
    return counts


def balanced_class_weights(counts) -> dict[int, float]:
    """Keras' `class_weight` that gives every class the same total weight:
    n_examples / (n_classes * count), scikit-learn's "balanced" rule.

    Args:
        counts: Examples of each class, index = class.

    Raises:
        ValueError: a class has no example (it could not be weighted).

    Example:
    >>> balanced_class_weights([30, 10])
    {0: 0.6666666666666666, 1: 2.0}
    """
    counts = np.asarray(counts, dtype=np.float64)
    if (counts == 0).any():
        empty = [int(i) for i in np.flatnonzero(counts == 0)]
        raise UsageError(
            f"Class(es) {empty} have no training image, so they cannot be balanced; give "
            "every class images, or drop the class (--classes)."
        )
    weights = counts.sum() / (len(counts) * counts)
    return {i: float(w) for i, w in enumerate(weights)}
