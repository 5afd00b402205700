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


def _folder(root, layout):
    """Images under root/<layout>/<class>/: 3 of class a (dark), 5 of b (bright)."""
    from PIL import Image

    for name, value, count in (("a", 10, 3), ("b", 240, 5)):
        folder = root / layout / name
        folder.mkdir(parents=True)
        for k in range(count):
            Image.fromarray(np.full((8, 8), value + k, np.uint8)).save(folder / f"{k}.png")
    return root


@pytest.mark.parametrize("layout", ["", "test"])
def test_a_held_out_folder_is_evaluated_whole(tmp_path, layout):
    from PIL import Image

    from kerascnn.builder import ConvNet

    from .helpers import run_kerascnn

    root = _folder(tmp_path / "heldout", layout)
    spec = {
        "name": "tiny",
        "input": {"height": 8, "width": 8, "channels": 1},
        "blocks": [{"filters": 2}],
        "head": {"num_classes": 2},
    }
    model = ConvNet(spec, class_names=["a", "b"])
    model.save(tmp_path / "m.keras")
    # The model's own answers: what the report must tally.
    files = sorted(root.rglob("*.png"))
    images = np.stack([np.asarray(Image.open(p), "float32")[..., None] for p in files])
    truth = np.array([0 if p.parent.name == "a" else 1 for p in files])
    correct = int((model.predict(images, verbose=0).argmax(-1) == truth).sum())
    report = evaluate(tmp_path / "m.keras", root)
    assert report.examples == 8 and report.class_names == ("a", "b")
    assert report.confusion.trace() == correct
    result = run_kerascnn("evaluate", tmp_path / "m.keras", "--data", root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"test: accuracy {100 * correct / 8:.2f}% on 8 images")
