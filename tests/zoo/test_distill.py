"""Distillation: a teacher's soft answers on labelled and unlabelled images
teach a small student, whatever input each of them declares."""

import json

import numpy as np
import pytest
from PIL import Image

import kerascnn
from kerascnn.training import TrainConfig
from kerascnn.training.config import DistillConfig
from kerascnn.training.evaluation import evaluate
from kerascnn.zoo import create_model, distill
from kerascnn.zoo.distillation import labelled_crossentropy
from kerascnn.zoo.recipe import ZooError, list_distill_recipes, load_distill_recipe
from tests.conftest import read_idx, shared
from tests.training.helpers import run_kerascnn


def test_the_cross_entropy_counts_only_labelled_images():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)).astype("float32")
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    labels = np.array([2, -1, 0, -1, 3, 1])
    expected = -np.mean([log_p[i, y] for i, y in enumerate(labels) if y >= 0])
    got = float(labelled_crossentropy(labels, log_p))
    assert got == pytest.approx(expected, rel=1e-6)
    assert float(labelled_crossentropy(np.full(6, -1), log_p)) == 0.0


def _digits(root, labelled: int, tested: int, unlabelled: int):
    """A user's folders: `labelled` digits a class with a test split of
    `tested` a class, and `unlabelled` more digits at some depth, no classes."""
    folder = shared("mnist")
    images = read_idx(folder / "train-images-idx3-ubyte.gz")
    labels = read_idx(folder / "train-labels-idx1-ubyte.gz")
    test_images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    test_labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    for split, (x, y, n) in {
        "train": (images, labels, labelled),
        "test": (test_images, test_labels, tested),
    }.items():
        for digit in range(10):
            target = root / "labelled" / split / str(digit)
            target.mkdir(parents=True)
            for k, i in enumerate(np.flatnonzero(y == digit)[:n]):
                Image.fromarray(x[i]).save(target / f"{k}.png")
    phone = root / "unlabelled" / "phone" / "2026"  # any depth, no classes
    phone.mkdir(parents=True)
    for i in range(5000, 5000 + unlabelled):
        Image.fromarray(images[i]).save(phone / f"IMG_{i}.png")
    return root


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return _digits(tmp_path_factory.mktemp("digits"), labelled=10, tested=20, unlabelled=300)


def _distil(digits, out, epochs, validation_split=0.0, ema_momentum=None, **distill_settings):
    # A 28x28 gray teacher, a 32x32 RGB student: each sees its own view.
    student = create_model(
        "tinyvgg_8k", input_shape=(32, 32, 3), class_names=[str(d) for d in range(10)]
    )
    return distill(
        "lenet5.mnist", student, digits / "labelled", out,
        TrainConfig(epochs=epochs, learning_rate=5e-3, ema_momentum=ema_momentum, seed=0),
        DistillConfig(**distill_settings),
        data_config={
            "unlabeled": digits / "unlabelled", "batch_size": 64,
            "validation_split": validation_split,
        },
        verbose=0,
    )  # fmt: skip


def test_a_student_of_another_input_takes_the_teachers_classes(digits, tmp_path):
    result = _distil(digits, tmp_path / "run", epochs=2, validation_split=0.3, ema_momentum=0.9)
    model = kerascnn.load(result.model_path)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.class_names == [str(d) for d in range(10)]
    assert model.provenance["teacher"] == "lenet5.mnist"
    assert len(model.provenance["teacher_weights_sha256"]) == 64
    assert result.test_report.examples == 200
    record = json.loads((tmp_path / "run" / "distill.json").read_text())
    sizes = {"train": 70, "validation": 30, "test": 200, "unlabeled": 300}
    assert record["data"]["sizes"] == sizes
    assert record["distill"] == {"temperature": 4.0, "student_loss_weight": 0.1}
    # The student ends as validation last scored it: the average of its
    # weights, with batch norm statistics for the average (Keras'
    # SwapEMAWeights would score the trained weights' statistics).
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    report = evaluate(
        model, digits / "labelled", "validation", data_config={"validation_split": 0.3}
    )
    assert report.examples == 30
    assert history[-1]["val_accuracy"] == pytest.approx(report.accuracy, abs=1e-6)


@pytest.mark.slow
def test_the_teachers_answers_teach_more_than_the_labels_alone(tmp_path):
    digits = _digits(tmp_path / "digits", labelled=20, tested=50, unlabelled=1000)
    taught = _distil(digits, tmp_path / "taught", epochs=20)
    # The same run with the whole loss on the 200 labels: no teacher.
    alone = _distil(digits, tmp_path / "alone", epochs=20, student_loss_weight=1.0)
    assert taught.test_report.accuracy > alone.test_report.accuracy + 0.05, (
        taught.test_report.accuracy,
        alone.test_report.accuracy,
    )


@pytest.mark.slow
def test_the_command_and_python_distil_the_same_student(digits, tmp_path):
    result = run_kerascnn(
        "distill", "lenet5.mnist", "tinyvgg_8k", "--data", digits / "labelled",
        "--unlabeled", digits / "unlabelled", "--out", tmp_path / "cli",
        "--epochs", "1", "--seed", "0", "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    # Both take the default recipe, its epochs replaced.
    recipe = load_distill_recipe("few_labels").with_settings(epochs=1)
    in_python = distill(
        "lenet5.mnist", "tinyvgg_8k", digits / "labelled", tmp_path / "py", recipe=recipe,
        seed=0, data_config={"unlabeled": digits / "unlabelled"}, verbose=0,
    )  # fmt: skip
    import kerascnn

    by_command = kerascnn.load(tmp_path / "cli")
    for a, b in zip(by_command.get_weights(), in_python.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_training_refuses_unlabelled_images(digits, tmp_path):
    from kerascnn.errors import UsageError
    from kerascnn.training import train

    with pytest.raises(UsageError, match=r"300 unlabelled images.*kerascnn distill"):
        train(
            "lenet5", digits / "labelled", tmp_path / "run", TrainConfig(epochs=1),
            data_config={"unlabeled": digits / "unlabelled"},
        )  # fmt: skip
    # `--unlabeled` is a flag of distill's only.
    assert run_kerascnn("train", "lenet5", "--unlabeled", "x", "--out", "y").returncode == 2


def test_a_folder_of_the_users_is_refused_and_left_alone(digits, tmp_path):
    out = tmp_path / "mine"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "thesis.txt").write_text("years of work")
    result = run_kerascnn(
        "distill", "lenet5.mnist", "tinyvgg_8k", "--data", digits / "labelled", "--out", out
    )
    assert result.returncode == 2 and "is not empty" in result.stderr.strip().splitlines()[-1]
    assert (out / "backup" / "thesis.txt").read_text() == "years of work"


def test_built_in_recipes_load_and_a_bad_one_is_named(tmp_path):
    assert list_distill_recipes() == ["few_labels", "full_labels"]
    for name in list_distill_recipes():
        recipe = load_distill_recipe(name)
        assert recipe.description and recipe.config.epochs > 1
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"training": {"epochs": 2, "temprature": 3}}))
    with pytest.raises(ZooError, match=r"recipe 'mine': unknown field\(s\) temprature"):
        load_distill_recipe(bad)
    with pytest.raises(ZooError, match=r"Built-in recipes: few_labels, full_labels"):
        load_distill_recipe("few_label")


def test_flags_replace_only_their_settings_of_the_recipe(digits, tmp_path):
    recipe = tmp_path / "quick.json"
    recipe.write_text(
        json.dumps(
            {
                "description": "one short epoch",
                "training": {"epochs": 3, "optimizer": "sgd", "learning_rate": 0.01},
                "distill": {"temperature": 2.0, "student_loss_weight": 0.3},
            }
        )
    )
    out = tmp_path / "run"
    result = run_kerascnn(
        "distill", "lenet5.mnist", "lenet5", "--data", digits / "labelled", "--out", out,
        "--recipe", recipe, "--epochs", "1", "--student-loss-weight", "0.5",
        "--ema-momentum", "0.9", "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "distill.json").read_text())
    assert record["recipe"] == "quick"
    assert record["config"]["epochs"] == 1 and record["config"]["optimizer"] == "sgd"
    assert record["config"]["learning_rate"] == 0.01 and record["config"]["ema_momentum"] == 0.9
    assert record["distill"] == {"temperature": 2.0, "student_loss_weight": 0.5}
