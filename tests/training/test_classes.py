"""What a run learns about classes: their names, a head that fits them, the
loss the head calls for, and weights for unequal classes."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from kerascnn import build_model
from kerascnn.data import load_dataset
from kerascnn.errors import UsageError
from kerascnn.losses import SmoothedSparseCategoricalCrossentropy, SparseBinaryCrossentropy
from kerascnn.training import TrainConfig, evaluate, train
from kerascnn.training.class_weights import balanced_class_weights
from kerascnn.training.evaluation import EvaluationReport
from kerascnn.training.run import compile_for_training

from .helpers import SMALL_SPEC, run_kerascnn, write_spec


@pytest.fixture(scope="module")
def two_class_folder(tmp_path_factory):
    """A folder with 'animal' (12 images) and 'vehicle' (4): unequal, and named."""
    root = tmp_path_factory.mktemp("mine")
    rng = np.random.default_rng(0)
    for name, count, brightness in (("animal", 12, 40), ("vehicle", 4, 200)):
        (root / name).mkdir()
        for k in range(count):
            pixels = np.clip(rng.normal(brightness, 20, (28, 28)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{k}.png")
    return root


def _data(folder, **options):
    return load_dataset(str(folder), image_shape=(28, 28, 1), batch_size=8, **options)


def test_a_spec_for_ten_classes_follows_a_two_class_folder_and_learns_its_names(
    two_class_folder, tmp_path, caplog
):
    result = train(SMALL_SPEC, _data(two_class_folder), tmp_path / "run", TrainConfig(epochs=1))
    assert "head predicts the data's 2 classes (animal, vehicle), not the spec's 10" in caplog.text
    model = keras.saving.load_model(result.best_model_path)
    assert model.output_shape == (None, 2)
    assert model.class_names == ["animal", "vehicle"]


def test_cli_train_on_a_two_class_folder_reports_by_name(two_class_folder, tmp_path):
    result = run_kerascnn(
        "train", write_spec(tmp_path), "--data", two_class_folder, "--out", tmp_path / "run",
        "--epochs", "1", "--verbose", "0", "--class-weight", "balanced",
        "--validation-split", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "not the spec's 10" in result.stderr
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    # 16 images: 12 animals weigh 16 / (2 * 12), 4 vehicles 16 / (2 * 4).
    assert run["class_weight"] == {"0": pytest.approx(2 / 3), "1": pytest.approx(2.0)}


def test_a_model_whose_head_does_not_fit_the_data_is_refused_before_training(
    two_class_folder, tmp_path
):
    model = build_model(SMALL_SPEC)
    with pytest.raises(ValueError, match=r"predicts 10 classes but .* has 2 \(animal, vehicle\)"):
        train(model, _data(two_class_folder), tmp_path / "run", TrainConfig(epochs=1))
    assert not (tmp_path / "run").exists()


def test_balanced_weights_follow_the_rule():
    # n / (classes * count): 40 / (2 * 30) and 40 / (2 * 10).
    assert balanced_class_weights([30, 10]) == {0: pytest.approx(2 / 3), 1: pytest.approx(2.0)}
    with pytest.raises(ValueError, match="no training image"):
        balanced_class_weights([5, 0])


def test_balanced_weights_reach_the_loss(two_class_folder, tmp_path):
    # With equal weights the majority class dominates the loss; balanced, the
    # weighted loss Keras reports equals a NumPy weighted cross-entropy.
    data = _data(two_class_folder, validation_split=0.0)
    config = TrainConfig(epochs=1, learning_rate=1e-9, seed=0, class_weight="balanced")
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 2}})
    batches = list(data.train)  # one pass: the split reshuffles on every pass
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    p = keras.ops.convert_to_numpy(model(images, training=False))
    weights = np.where(labels == 0, 16 / (2 * 12), 16 / (2 * 4))
    expected = np.sum(weights * -np.log(p[np.arange(len(labels)), labels])) / len(labels)
    result = train(model, data, tmp_path / "run", config, verbose=0)
    assert result.history[0]["loss"] == pytest.approx(expected, rel=0.05)


def test_a_sigmoid_head_trains_with_binary_cross_entropy():
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 3, "activation": "sigmoid"}})
    compile_for_training(model, TrainConfig(), steps_per_epoch=1)
    assert isinstance(model.loss, SparseBinaryCrossentropy)
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.9]], dtype="float32")
    labels = np.array([1, 2])
    targets = np.eye(3)[labels]
    # NumPy oracle: the mean over classes of each class's binary cross-entropy.
    bce = -(targets * np.log(p) + (1 - targets) * np.log(1 - p)).mean(axis=1).mean()
    loss = float(SparseBinaryCrossentropy()(labels, p))
    assert loss == pytest.approx(bce, rel=1e-5)


def test_the_sigmoid_loss_survives_a_saved_checkpoint(tmp_path):
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 3, "activation": "sigmoid"}})
    compile_for_training(model, TrainConfig(), steps_per_epoch=1)
    model.save(tmp_path / "m.keras")
    assert isinstance(keras.saving.load_model(tmp_path / "m.keras").loss, SparseBinaryCrossentropy)


@pytest.mark.parametrize("activation", ["softmax", "linear"])
def test_label_smoothing_spreads_a_share_of_each_target_over_the_classes(activation, tmp_path):
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 3, "activation": activation}})
    compile_for_training(model, TrainConfig(label_smoothing=0.3), steps_per_epoch=1)
    p = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
    labels = np.array([1, 2])
    # NumPy oracle: cross-entropy against 0.7 * one-hot + 0.3 / 3.
    targets = 0.7 * np.eye(3)[labels] + 0.1
    expected = -(targets * np.log(p)).sum(axis=1).mean()
    predictions = p if activation == "softmax" else np.log(p)  # logits of p
    assert float(model.loss(labels, predictions)) == pytest.approx(expected, rel=1e-5)
    # The checkpoint a run resumes from keeps the smoothing.
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras").loss
    assert isinstance(loaded, SmoothedSparseCategoricalCrossentropy)
    assert float(loaded(labels, predictions)) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_is_refused_for_a_sigmoid_head_and_out_of_range():
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 3, "activation": "sigmoid"}})
    with pytest.raises(UsageError, match="sigmoid head answers each class on its own"):
        compile_for_training(model, TrainConfig(label_smoothing=0.1), steps_per_epoch=1)
    with pytest.raises(UsageError, match=r"Received: label_smoothing=1\.0"):
        TrainConfig(label_smoothing=1.0)


def test_balanced_accuracy_and_a_confusion_matrix_with_names():
    confusion = np.array([[8, 2], [3, 1]])
    report = EvaluationReport("test", ("wild animal", "véhicule"), confusion)
    assert report.accuracy == pytest.approx(9 / 14)
    assert report.balanced_accuracy == pytest.approx((8 / 10 + 1 / 4) / 2)
    lines = str(report).splitlines()
    header = lines[lines.index("confusion matrix (rows: true class, columns: predicted)") + 1]
    assert header.split() == ["wild", "animal", "véhicule"]
    assert "balanced accuracy 52.50%" in lines[0]
    assert report.to_dict()["balanced_accuracy"] == pytest.approx(0.525)


def test_evaluate_refuses_a_model_that_names_other_classes(two_class_folder):
    data = _data(two_class_folder)
    model = build_model({**SMALL_SPEC, "head": {"num_classes": 2}}, class_names=["cat", "dog"])
    with pytest.raises(ValueError, match=r"classes cat, dog but .* has animal, vehicle"):
        evaluate(model, data, "validation")


@pytest.mark.slow
def test_tfds_class_names_are_recorded(tfds_fashion_data_dir, tmp_path):
    data = load_dataset(
        "tfds:fashion_mnist", data_dir=tfds_fashion_data_dir, max_examples=256, batch_size=64
    )
    result = train(SMALL_SPEC, data, tmp_path / "run", TrainConfig(epochs=1), verbose=0)
    model = keras.saving.load_model(result.best_model_path)
    assert model.class_names[:2] == ["T-shirt/top", "Trouser"]
