"""`evaluate`: accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

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


def _held_out(source, model, split: str, data_config):
    """The data set to evaluate on, loaded at the model's input size. A
    folder of class folders with no split folders is held out whole: it is
    the split asked for, nothing is cut from it for validation."""
    from kerascnn.data import DataConfig, load_dataset
    from kerascnn.data.folder_source import split_folders
    from kerascnn.model_source import input_shape

    data_config = DataConfig.of(data_config)
    path = Path(str(source))
    whole = path.is_dir() and not split_folders(path)
    if whole:
        data_config = data_config.replace(validation_split=0.0)
    data = load_dataset(str(source), image_shape=input_shape(model), **data_config.to_dict())
    if whole:
        data = dataclasses.replace(
            data, splits={split: data.splits["train"]}, sizes={split: data.sizes["train"]}
        )
    return data


def evaluate(
    model,
    data,
    split: str = "test",
    *,
    data_config=None,
    trust_saved_model: bool = False,
) -> EvaluationReport:
    """Classifies every image of a split and tallies the confusion matrix.

    Args:
        model: A Keras classifier taking the data set's images, an exported
            artifact (`kerascnn.export.load_artifact`), or any source
            `kerascnn.load` takes (a run folder, `.keras`, preset, export).
        data: An `ImageDataset`, or a source to load at the model's input
            size: `tfds:NAME`, or a folder with split folders (`test/`, ...)
            or of class folders alone, which is evaluated whole.
        split: "test", "validation" or "train".
        data_config: A `DataConfig` (or its dict) for `data` given as a source.
        trust_saved_model: Allow a SavedModel folder as `model` (`kerascnn.load`).

    Example:
    >>> print(evaluate("runs/lenet", "my_heldout_digits"))
    """
    if isinstance(model, (str, Path)):
        from kerascnn.model_source import load

        model = load(model, trust_saved_model=trust_saved_model)
    if isinstance(data, (str, Path)):
        data = _held_out(data, model, split, data_config)
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
