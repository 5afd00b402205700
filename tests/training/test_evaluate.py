"""evaluate(): accuracy, per-class accuracy and confusion matrix."""

import numpy as np
import pytest

from kerascnn import build_model
from kerascnn.data import load_dataset
from kerascnn.training import evaluate

from .helpers import SMALL_SPEC


def test_report_agrees_with_keras_and_the_labels(tfds_data_dir):
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=600, batch_size=100)
    model = build_model(SMALL_SPEC)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    report = evaluate(model, data, "test")
    _, keras_accuracy = model.evaluate(data.test, verbose=0)
    assert report.accuracy == pytest.approx(keras_accuracy, abs=1e-6)
    labels = np.concatenate([y.numpy() for _, y in data.test])
    np.testing.assert_array_equal(report.confusion.sum(axis=1), np.bincount(labels, minlength=10))
    for i, name in enumerate(report.class_names):
        row = report.confusion[i]
        assert report.per_class_accuracy[name] == pytest.approx(row[i] / row.sum())
    assert "confusion matrix" in str(report)


def test_a_model_for_other_classes_is_refused(tfds_data_dir):
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=64)
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 3}})
    with pytest.raises(ValueError, match="predicts 3 classes but tfds:mnist has 10"):
        evaluate(model, data)
