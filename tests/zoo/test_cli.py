"""The zoo's commands: models, info, evaluate and train by name, publish."""

import json
import os
import re
import shlex
import time

import numpy as np
import pytest

from kerascnn.zoo import list_models
from kerascnn.zoo.presets import read_preset
from tests.conftest import read_idx, shared
from tests.training.helpers import run_kerascnn


def test_models_lists_names_and_presets():
    result = run_kerascnn("models")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == list_models()
    result = run_kerascnn("models", "lenet5*", "--pretrained")
    assert result.stdout.split() == ["lenet5.mnist"]


def test_info_and_its_errors():
    result = run_kerascnn("info", "lenet5.mnist")
    assert result.returncode == 0, result.stderr
    assert "LeCun et al. 1998" in result.stdout and "61,706 parameters" in result.stdout
    assert "test accuracy" in result.stdout
    info = json.loads(run_kerascnn("info", "minivgg_m", "--json").stdout)
    assert info["spec"]["name"] == "minivgg_m" and info["min_input_size"] == [8, 8]
    result = run_kerascnn("info", "lenet6")
    assert result.returncode == 2
    assert "Unknown model 'lenet6'. Did you mean 'lenet5'" in result.stderr


def test_train_a_zoo_name_then_publish_it_as_a_measured_preset(tfds_data_dir, tmp_path):
    run = tmp_path / "run"
    started = time.perf_counter()
    result = run_kerascnn(
        "train",
        "lenet5",
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--max-examples",
        "1000",
        "--epochs",
        "1",
        "--validation-split",
        "0",
        "--label-smoothing",
        "0.1",
        "--ema-momentum",
        "0.99",
        "--out",
        str(run),
        "--verbose",
        "0",
        "--seed",
        "0",
    )
    assert result.returncode == 0, result.stderr
    wall = time.perf_counter() - started
    presets, cards = tmp_path / "presets", tmp_path / "zoo"
    result = run_kerascnn(
        "publish",
        str(run),
        "--name",
        "lenet5.tiny",
        "--dataset",
        "mnist",
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--presets-dir",
        str(presets),
        "--cards",
        str(cards),
        "--description",
        "A test: it's quoted.",
        "--limitations",
        "Many.",
    )
    assert result.returncode == 0, result.stderr
    preset = read_preset(presets / "lenet5.tiny")
    # The run's optimizer (and its moving average) stays in the run folder.
    assert not json.loads((preset.directory / "config.json").read_text()).get("compile_config")
    metadata = preset.metadata
    assert metadata["test_examples"] == 10_000
    assert metadata["parameters"] == 61_706
    assert metadata["dataset"]["license"].startswith("CC BY-SA 3.0")
    assert metadata["reproduce"][0].startswith("kerascnn train lenet5 --data tfds:mnist")
    assert metadata["training"]["config"]["epochs"] == 1
    # The recipe repeats every setting that changed the run.
    train_line = shlex.split(metadata["reproduce"][0])
    assert train_line[train_line.index("--label-smoothing") + 1] == "0.1"
    assert train_line[train_line.index("--validation-split") + 1] == "0.0"
    assert train_line[train_line.index("--ema-momentum") + 1] == "0.99"
    assert metadata["training"]["monitor"] == "accuracy"
    # The epoch's time fits inside the command's; images/s counts training steps only.
    training = metadata["training"]
    assert 0 < training["seconds"] < wall
    train_images = training["data"]["sizes"]["train"]
    # (Without validation the two are equal.)
    assert train_images / training["images_per_second"] <= training["seconds"] * (1 + 1e-6)
    assert training["machine"]["cpus"] == os.cpu_count()
    # The recipe's publish line gives the card its prose again.
    publish = shlex.split(metadata["reproduce"][-1])
    assert publish[:3] == ["kerascnn", "publish", "runs/lenet5.tiny"]
    assert publish[publish.index("--description") + 1] == "A test: it's quoted."
    assert publish[publish.index("--limitations") + 1] == "Many."

    # The recorded accuracy is the model's on the official test files.
    result = run_kerascnn(
        "evaluate",
        str(presets / "lenet5.tiny"),
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--json",
        str(tmp_path / "e.json"),
    )
    assert result.returncode == 0, result.stderr
    from kerascnn.zoo import load_preset

    images = read_idx(shared("mnist") / "t10k-images-idx3-ubyte.gz")[..., None]
    labels = read_idx(shared("mnist") / "t10k-labels-idx1-ubyte.gz")
    predicted = load_preset(presets / "lenet5.tiny").predict(
        images.astype("float32"), batch_size=1000, verbose=0
    )
    accuracy = float(np.mean(predicted.argmax(-1) == labels))
    assert abs(metadata["test_accuracy"] - accuracy) < 2e-4
    assert json.loads((tmp_path / "e.json").read_text())["accuracy"] == metadata["test_accuracy"]
    # The card and the index are written, with the measured figure.
    card = (cards / "lenet5.tiny" / "README.md").read_text()
    assert f"{100 * accuracy:.2f}%" in card or f"{100 * metadata['test_accuracy']:.2f}%" in card
    assert "lenet5.tiny" in (cards / "README.md").read_text()
    assert f"{training['images_per_second']:,.0f} training images a second" in card
    assert "(by training accuracy: every training image was trained on, none held out)" in card
    assert "label smoothing 0.1, moving average of the weights (momentum 0.99;" in card


def test_publish_refuses_a_run_of_another_network(tfds_data_dir, tmp_path):
    run = tmp_path / "run"
    run_kerascnn(
        "train",
        "lenet5_max",
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--max-examples",
        "200",
        "--epochs",
        "1",
        "--out",
        str(run),
        "--verbose",
        "0",
    )
    result = run_kerascnn(
        "publish",
        str(run),
        "--name",
        "lenet5.tiny",
        "--dataset",
        "mnist",
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--max-examples",
        "200",
        "--presets-dir",
        str(tmp_path / "presets"),
    )
    assert result.returncode == 2
    assert "did not train lenet5's spec" in result.stderr


@pytest.mark.slow
def test_a_distilled_run_publishes_a_card_naming_its_teacher(tfds_data_dir, tmp_path):
    run, presets, cards = tmp_path / "run", tmp_path / "presets", tmp_path / "zoo"
    flags = ["--data", "tfds:mnist", "--data-dir", tfds_data_dir, "--max-examples", "600"]
    result = run_kerascnn(
        "distill", "lenet5.mnist", "tinyvgg_8k", *flags, "--out", run, "--recipe",
        "full_labels", "--epochs", "2", "--temperature", "2", "--seed", "0", "--verbose", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    result = run_kerascnn(
        "publish", run, "--name", "tinyvgg_8k.kd", "--dataset", "mnist", *flags,
        "--presets-dir", presets, "--cards", cards, "--description", "Distilled.",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metadata = read_preset(presets / "tinyvgg_8k.kd").metadata
    training = metadata["training"]
    assert training["teacher"]["source"] == "lenet5.mnist"
    assert re.fullmatch("[0-9a-f]{64}", training["teacher"]["weights_sha256"])
    assert training["best_epoch"] == training["epochs_completed"] == 2
    card = (cards / "tinyvgg_8k.kd" / "README.md").read_text()
    assert "Distilled from the teacher `lenet5.mnist`" in card
    assert "the `full_labels` recipe" in card and "temperature 2," in card
    assert "2 epochs, best at epoch 2 (the last, fixed before training" in card
    assert f"{training['images_per_second']:,.0f} training images a second" in card
    # The reproduce line is a distill command: the recipe, and what differed from it.
    line = shlex.split(metadata["reproduce"][0])
    assert line[:4] == ["kerascnn", "distill", "lenet5.mnist", "tinyvgg_8k"]
    assert line[line.index("--recipe") + 1] == "full_labels"
    assert (
        line[line.index("--epochs") + 1] == "2" and line[line.index("--temperature") + 1] == "2.0"
    )
    assert "--lr" not in line and "--optimizer" not in line  # the recipe's own
