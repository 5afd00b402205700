"""`evaluate`: accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from kerascnn.builder import class_names as class_names_of
from kerascnn.builder import default_class_names
from kerascnn.errors import UsageError


def model_class_names(model) -> list[str]:
    """The classes a Keras model or an exported artifact (`load_artifact`) predicts."""
    if isinstance(model, keras.Model):
        return class_names_of(model)
    return list(model.class_names)


@dataclass(frozen=True)
class EvaluationReport:
    """How a classifier does on one split.

    Attributes:
        split: The split evaluated.
        class_names: Label names, index = label.
        confusion: `confusion[true, predicted]` counts.
    """

    split: str
    class_names: tuple[str, ...]
    confusion: np.ndarray

    @property
    def examples(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.examples, 1))

    @property
    def balanced_accuracy(self) -> float:
        """The mean of the per-class accuracies (recalls) of the classes
        with images: what accuracy would be if every class had as many."""
        totals = self.confusion.sum(axis=1)
        present = totals > 0
        if not present.any():
            return float("nan")
        return float(np.mean(np.diag(self.confusion)[present] / totals[present]))

    @property
    def per_class_accuracy(self) -> dict[str, float]:
        totals = self.confusion.sum(axis=1)
        return {
            name: float(self.confusion[i, i] / totals[i]) if totals[i] else float("nan")
            for i, name in enumerate(self.class_names)
        }

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "examples": self.examples,
            "accuracy": self.accuracy,
            "balanced_accuracy": self.balanced_accuracy,
            "per_class_accuracy": self.per_class_accuracy,
            "class_names": list(self.class_names),
            "confusion_matrix": self.confusion.tolist(),
        }

    def __str__(self) -> str:
        width = max(6, *(len(n) for n in self.class_names))
        lines = [
            f"{self.split}: accuracy {100 * self.accuracy:.2f}% on {self.examples:,} images, "
            f"balanced accuracy {100 * self.balanced_accuracy:.2f}%",
            "",
            f"{'class'.ljust(width)}  accuracy  images",
        ]
        totals = self.confusion.sum(axis=1)
        for (name, acc), total in zip(self.per_class_accuracy.items(), totals, strict=True):
            lines.append(f"{name.ljust(width)}  {100 * acc:7.2f}%  {total:6d}")
        lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
        cell = max(
            5, len(str(int(self.confusion.max()))) + 1, *(len(n) + 1 for n in self.class_names)
        )
        lines.append(" " * width + "".join(name.rjust(cell) for name in self.class_names))
        for i, name in enumerate(self.class_names):
            row = "".join(str(int(v)).rjust(cell) for v in self.confusion[i])
            lines.append(f"{name.ljust(width)}{row}")
        return "\n".join(lines)


def evaluate(model: keras.Model, data, split: str = "test") -> EvaluationReport:
    """Classifies every image of a split and tallies the confusion matrix.

    Args:
        model: A Keras classifier taking the data set's images, or an
            exported artifact (`kerascnn.export.load_artifact`).
        data: An `ImageDataset`.
        split: "test", "validation" or "train".

    Example:
    >>> print(evaluate(keras.saving.load_model("runs/lenet/best.keras"), data))
    """
    dataset = data.split(split)
    n = data.num_classes
    names = model_class_names(model)
    if len(names) != n:
        raise UsageError(
            f"The model predicts {len(names)} classes but {data.source} has {n}; "
            "evaluate it on data with the same classes."
        )
    if names != default_class_names(n) and names != list(data.class_names):
        raise UsageError(
            f"The model predicts the classes {', '.join(names)} but {data.source} has "
            f"{', '.join(data.class_names)}; evaluate it on data with the same classes, in "
            "the same order (--classes picks and orders a data set's classes)."
        )
    confusion = np.zeros((n, n), dtype=np.int64)
    for images, labels in dataset:
        predicted = np.argmax(model.predict_on_batch(images), axis=-1)
        np.add.at(confusion, (np.asarray(labels), predicted), 1)
    return EvaluationReport(split=split, class_names=data.class_names, confusion=confusion)
