"""Fine-tuning recipes, the few-shot subsets they train on, and `kerascnn finetune`."""

import json

import keras
import numpy as np
import pytest

from kerascnn.data import load_dataset
from kerascnn.zoo import ZooError, create_model
from kerascnn.zoo.finetuning import (
    finetune,
    list_recipes,
    load_recipe,
    reset_fully_connected,
    set_trainable,
)
from tests.conftest import read_idx, shared
from tests.training.helpers import run_kerascnn


@pytest.mark.parametrize("name", list_recipes())
def test_every_built_in_recipe_loads_with_the_seed_of_the_run(name):
    recipe = load_recipe(name, seed=7, class_weight="balanced")
    assert recipe.stages and all(s.config.seed == 7 for s in recipe.stages)
    assert all(s.config.class_weight == "balanced" for s in recipe.stages)


def test_a_stage_takes_every_setting_declared_for_stages_and_no_other(tmp_path):
    path = tmp_path / "mine.json"
    stage = {"train": "all", "epochs": 2, "label_smoothing": 0.1, "monitor": "val_loss"}
    path.write_text(json.dumps({"stages": [stage]}))
    config = load_recipe(path).stages[0].config
    assert (config.label_smoothing, config.monitor, config.epochs) == (0.1, "val_loss", 2)
    # The run decides these, not a recipe.
    path.write_text(json.dumps({"stages": [{"train": "all", "precision": "auto"}]}))
    with pytest.raises(ZooError, match=r"stage 1: unknown field\(s\) precision"):
        load_recipe(path)


def test_bad_recipes_name_the_problem(tmp_path):
    with pytest.raises(ZooError, match=r"Unknown fine-tuning recipe 'fast'.*linear_probe"):
        load_recipe("fast")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"stages": [{"train": "body", "epochs": 1}]}))
    with pytest.raises(ZooError, match=r"stage 1: `train` must be 'head', 'fc' or 'all'"):
        load_recipe(bad)
    bad.write_text(json.dumps({"reset": "head", "stages": [{"train": "all", "epochs": 1}]}))
    with pytest.raises(ZooError, match=r"`reset` must be 'fc'.*'all'.*Received: reset='head'"):
        load_recipe(bad)
    bad.write_text(json.dumps({"stages": [{"train": "all", "epoch": 1}]}))
    with pytest.raises(ZooError, match=r"stage 1: unknown field.*epoch"):
        load_recipe(bad)
    bad.write_text(json.dumps({"stages": [{"train": "all", "learning_rate": -1}]}))
    with pytest.raises(ZooError, match=r"stage 1: .*learning_rate"):
        load_recipe(bad)


def test_a_linear_probe_trains_only_the_classifier():
    model = create_model("lenet5.mnist", num_classes=3)
    set_trainable(model, "head")
    assert [v.path for v in model.trainable_variables] == [
        "predictions/kernel",
        "predictions/bias",
    ]
    set_trainable(model, "all")
    assert len(model.trainable_variables) == 10


def test_fc_trains_every_fully_connected_layer_and_nothing_else():
    model = create_model("lenet5.mnist", num_classes=3)
    set_trainable(model, "fc")
    assert [v.path for v in model.trainable_variables] == [
        f"{name}/{weight}"
        for name in ("fc1", "fc2", "predictions")
        for weight in ("kernel", "bias")
    ]


def test_reset_fully_connected_keeps_the_convolutions():
    preset = create_model("seed_cnn_base.fashion_mnist")
    model = create_model("seed_cnn_base.fashion_mnist")
    assert reset_fully_connected(model, seed=3) == ["fc1", "predictions"]
    for layer, trained in zip(model.layers, preset.layers):
        if layer.name.startswith("block"):
            for mine, theirs in zip(layer.get_weights(), trained.get_weights()):
                np.testing.assert_array_equal(mine, theirs)
    kernel, bias = model.get_layer("fc1").get_weights()
    assert not np.allclose(kernel, preset.get_layer("fc1").get_weights()[0])
    # Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), std l / sqrt(3).
    limit = np.sqrt(6 / (3136 + 256))
    assert np.abs(kernel).max() <= np.float32(limit) * (1 + 1e-6)
    assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)
    np.testing.assert_array_equal(bias, 0)
    # Seeded: the same seed gives the same weights, another seed others.
    again = create_model("seed_cnn_base.fashion_mnist")
    reset_fully_connected(again, seed=3)
    np.testing.assert_array_equal(again.get_layer("fc1").get_weights()[0], kernel)
    reset_fully_connected(again, seed=4)
    assert not np.allclose(again.get_layer("fc1").get_weights()[0], kernel)


@pytest.mark.slow
def test_per_class_and_classes_subsets_of_tfds(tfds_data_dir):
    data = load_dataset(
        "tfds:mnist",
        data_dir=tfds_data_dir,
        classes="3,1,7",
        per_class=20,
        validation_split=0.0,
        batch_size=500,
    )
    assert data.class_names == ("3", "1", "7") and data.sizes["train"] == 60
    labels = np.concatenate([y.numpy() for _, y in data.train])
    assert np.bincount(labels).tolist() == [20, 20, 20]
    # The test split keeps every image of the three classes, relabelled.
    official = read_idx(shared("mnist") / "t10k-labels-idx1-ubyte.gz")
    assert data.sizes["test"] == int(np.isin(official, [3, 1, 7]).sum())
    test_labels = np.concatenate([y.numpy() for _, y in data.test])
    expected = {3: 0, 1: 1, 7: 2}
    np.testing.assert_array_equal(
        np.bincount(test_labels),
        [int((official == digit).sum()) for digit in sorted(expected, key=expected.get)],
    )


def test_per_class_subsets_of_a_folder(cifar10_folder):
    data = load_dataset(
        str(cifar10_folder), classes=["cat", "ship"], per_class=7, validation_split=0.0
    )
    assert data.class_names == ("cat", "ship")
    assert data.sizes == {"train": 14, "test": 2000}
    labels = np.concatenate([y.numpy() for _, y in data.train])
    assert np.bincount(labels).tolist() == [7, 7]


def test_unknown_subset_classes_are_named(tfds_data_dir):
    from kerascnn.data import DataError

    with pytest.raises(DataError, match=r"names 'eleven'.*Its classes: 0, 1"):
        load_dataset("tfds:mnist", data_dir=tfds_data_dir, classes="1,eleven")


def test_finetune_runs_every_stage_and_learns(tfds_data_dir, tmp_path):
    data = load_dataset(
        "tfds:mnist",
        data_dir=tfds_data_dir,
        per_class=10,
        validation_split=0.0,
        batch_size=20,
        max_examples=2000,
    )
    model = create_model("lenet5.mnist", num_classes=10)
    before = model.get_layer("block1_conv1").get_weights()[0].copy()
    recipe = tmp_path / "quick.json"
    recipe.write_text(
        json.dumps(
            {
                "stages": [
                    {"name": "head", "train": "head", "epochs": 2, "learning_rate": 0.01},
                    {"name": "all", "train": "all", "epochs": 2, "learning_rate": 0.0003},
                ]
            }
        )
    )
    result = finetune(model, data, tmp_path / "run", load_recipe(recipe, seed=0), verbose=0)
    assert [r.run_dir.name for r in result.stages] == ["1_head", "2_all"]
    assert all(len(r.history) == 2 for r in result.stages)
    # The first stage leaves the backbone alone; the second moves it.
    after_head = keras.saving.load_model(
        result.stages[0].run_dir / "checkpoint.keras", compile=False
    )
    np.testing.assert_array_equal(after_head.get_layer("block1_conv1").get_weights()[0], before)
    assert not np.array_equal(result.model.get_layer("block1_conv1").get_weights()[0], before)
    # The caller's model is not trained in place.
    np.testing.assert_array_equal(model.get_layer("block1_conv1").get_weights()[0], before)
    assert model.trainable_weights == model.weights
    reloaded = keras.saving.load_model(result.model_path)
    assert reloaded.output_shape == (None, 10) and reloaded.trainable


def test_finetune_refuses_a_head_of_the_wrong_size(tfds_data_dir, tmp_path):
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, classes="0,1", max_examples=100)
    with pytest.raises(ZooError, match=r"predicts 10 classes but the data has 2"):
        finetune(create_model("lenet5.mnist"), data, tmp_path, "linear_probe")


def test_cli_finetune(tfds_data_dir, tmp_path):
    recipe = tmp_path / "one_epoch.json"
    recipe.write_text(json.dumps({"stages": [{"train": "head", "epochs": 1}]}))
    result = run_kerascnn(
        "finetune",
        "lenet5.mnist",
        "--data",
        "tfds:mnist",
        "--data-dir",
        tfds_data_dir,
        "--recipe",
        str(recipe),
        "--per-class",
        "5",
        "--classes",
        "3,1,7",
        "--max-examples",
        "3000",
        "--validation-split",
        "0",
        "--out",
        str(tmp_path / "ft"),
        "--seed",
        "0",
        "--verbose",
        "0",
    )
    assert result.returncode == 0, result.stderr
    assert "fresh 3-class head" in result.stderr
    assert "test accuracy" in result.stdout
    report = json.loads((tmp_path / "ft" / "test_evaluation.json").read_text())
    assert report["class_names"] == ["3", "1", "7"]


@pytest.mark.slow
def test_cli_scratch_trains_fresh_weights_not_the_presets(tfds_fashion_data_dir, tmp_path):
    common = (
        "--data", "tfds:fashion_mnist", "--data-dir", tfds_fashion_data_dir, "--per-class", "5",
        "--classes", "Sandal,Sneaker,Bag", "--max-examples", "3000", "--validation-split", "0",
        # Not seed 0: lenet5.mnist was trained from seed 0's initial weights,
        # which a fresh start with seed 0 would share.
        "--seed", "1", "--verbose", "0",
    )  # fmt: skip
    for recipe in ("scratch", "linear_probe"):
        result = run_kerascnn(
            "finetune", "lenet5.mnist", "--recipe", recipe, "--out", tmp_path / recipe, *common
        )
        assert result.returncode == 0, result.stderr
    preset = create_model("lenet5.mnist").get_layer("block1_conv1").get_weights()[0].ravel()

    def first_kernel(recipe):
        model = keras.saving.load_model(tmp_path / recipe / "final.keras")
        return model, model.get_layer("block1_conv1").get_weights()[0].ravel()

    probe, probe_kernel = first_kernel("linear_probe")
    np.testing.assert_array_equal(probe_kernel, preset)
    assert probe.provenance["preset"] == "lenet5.mnist"
    scratch, scratch_kernel = first_kernel("scratch")
    # 30 short epochs from a fresh start leave a kernel far from the preset's.
    assert np.linalg.norm(scratch_kernel - preset) > 0.5 * np.linalg.norm(preset)
    assert scratch.provenance == {"recipe": "scratch"}
    assert scratch.class_names == ["Sandal", "Sneaker", "Bag"]


def test_fresh_copy_is_seeded_without_reseeding_kerass_global_random_state():
    from kerascnn.zoo import fresh_copy

    preset = create_model("lenet5.mnist")

    def copy_then_draw(seed: int):
        keras.utils.set_random_seed(123)  # the user's own seed
        copy = fresh_copy(preset, seed=seed)
        return copy, keras.ops.convert_to_numpy(keras.random.uniform((4,)))

    copy, draw = copy_then_draw(5)
    other, other_draw = copy_then_draw(6)
    # The copy's seed is its own: the user's stream goes on from their seed.
    np.testing.assert_array_equal(draw, other_draw)
    again, _ = copy_then_draw(5)
    for a, b in zip(copy.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    kernel = copy.get_layer("block1_conv1").get_weights()[0]
    assert not np.array_equal(kernel, other.get_layer("block1_conv1").get_weights()[0])
    assert not np.array_equal(kernel, preset.get_layer("block1_conv1").get_weights()[0])
    assert copy.provenance == {} and copy.class_names == preset.class_names
