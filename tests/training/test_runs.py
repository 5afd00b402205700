"""Training runs: their files, reproducibility, divergence, kill -9 and resume."""

import json
import signal
import subprocess
import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerascnn import ConvNetSpec
from kerascnn.data import ImageDataset, load_dataset
from kerascnn.errors import UsageError
from kerascnn.training import TrainConfig, TrainingDiverged, evaluate, train

from .helpers import (
    ROOT,
    SMALL_SPEC,
    StepWeights,
    kerascnn_command,
    run_kerascnn,
    write_spec,
)


@pytest.fixture(scope="module")
def mnist_small(tfds_data_dir):
    return load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=1024, batch_size=64)


def test_a_run_writes_its_checkpoint_best_model_and_history(mnist_small, tmp_path):
    result = train(SMALL_SPEC, mnist_small, tmp_path / "run", TrainConfig(epochs=2), verbose=0)
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == [
        "best.keras", "checkpoint.keras", "history.csv", "history.json", "run.json", "state.json",
        "test_evaluation.json",
    ]  # fmt: skip
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history[0])
    csv_lines = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(csv_lines) == 3 and csv_lines[0].startswith("epoch,")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["data"]["source"] == "tfds:mnist" and run["config"]["epochs"] == 2
    best = keras.saving.load_model(result.best_model_path)
    assert ConvNetSpec.from_dict(run["model"]) == best.spec
    assert evaluate(best, mnist_small, "validation").accuracy == pytest.approx(
        max(row["val_accuracy"] for row in result.history), abs=1e-6
    )
    # The best model, tested once training ends.
    tested = json.loads((tmp_path / "run" / "test_evaluation.json").read_text())
    assert tested["accuracy"] == evaluate(best, mnist_small, "test").accuracy
    assert result.test_report.accuracy == tested["accuracy"]


@pytest.mark.slow
def test_seeded_runs_on_freshly_loaded_data_are_identical(tfds_data_dir, tmp_path):
    # tf.data combines the global seed into the shuffle order, and a split's
    # seed state advances with every pass: a reproducible run seeds first,
    # then loads its data (as `kerascnn train --seed` does).
    def run(folder):
        keras.utils.set_random_seed(7)
        data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=1024, seed=7)
        return train(SMALL_SPEC, data, tmp_path / folder, TrainConfig(epochs=2, seed=7), verbose=0)

    def metrics(history):  # every logged figure but the wall times
        return [{k: v for k, v in row.items() if "seconds" not in k} for row in history]

    a, b = run("a").history, run("b").history
    assert metrics(a) == metrics(b) and len(metrics(a)[0]) == 5


def test_steps_per_execution_trains_the_same_steps(tfds_data_dir, tmp_path):
    # Batches per call into TensorFlow change the round trips, not the training.
    def weights(steps, folder):
        keras.utils.set_random_seed(3)
        data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=640, seed=3)
        config = TrainConfig(epochs=1, seed=3, steps_per_execution=steps)
        result = train(SMALL_SPEC, data, tmp_path / folder, config, test=False, verbose=0)
        return keras.saving.load_model(result.best_model_path).get_weights()

    one, many = weights(1, "one"), weights(4, "four")
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_averaging_run_validates_and_keeps_the_average(tfds_data_dir, tmp_path):
    keras.utils.set_random_seed(3)
    data = load_dataset("tfds:mnist", data_dir=tfds_data_dir, max_examples=640, seed=3)
    config = TrainConfig(
        epochs=1, optimizer="sgd", learning_rate=0.05, seed=3, steps_per_execution=1,
        ema_momentum=0.9,
    )  # fmt: skip
    steps = StepWeights()
    result = train(SMALL_SPEC, data, tmp_path, config, test=False, verbose=0, callbacks=[steps])

    average = steps.reference_average(0.9)
    best = keras.saving.load_model(result.best_model_path)
    checkpoint = keras.saving.load_model(tmp_path / "checkpoint.keras")
    for ours, expected in zip(best.trainable_weights, average, strict=True):
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-6)
    # The checkpoint trains on from the last step's weights, not the average
    # (to rounding: Keras' SwapEMAWeights swaps by adding and subtracting).
    for ours, expected in zip(checkpoint.trainable_weights, steps.steps[-1], strict=True):
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert not np.allclose(average[0], steps.steps[-1][0])
    # Validation scored the average, i.e. the model in best.keras.
    assert evaluate(best, data, "validation").accuracy == pytest.approx(
        result.history[0]["val_accuracy"], abs=1e-6
    )


def test_an_averaging_runs_checkpoint_carries_the_average_to_resume_from(mnist_small, tmp_path):
    config = TrainConfig(epochs=1, ema_momentum=0.95)
    train(SMALL_SPEC, mnist_small, tmp_path, config, test=False, verbose=0)
    checkpoint = keras.saving.load_model(tmp_path / "checkpoint.keras")
    best = keras.saving.load_model(tmp_path / "best.keras")
    # Handing the checkpoint its stored average (Keras' public way) gives
    # best.keras: the average is in the optimizer state a resumed run loads.
    checkpoint.optimizer.finalize_variable_values(checkpoint.trainable_variables)
    pairs = zip(checkpoint.trainable_weights, best.trainable_weights, strict=True)
    for ours, expected in pairs:
        np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    assert checkpoint.optimizer.use_ema and checkpoint.optimizer.ema_momentum == 0.95


def test_an_existing_run_is_not_overwritten(mnist_small, tmp_path):
    train(SMALL_SPEC, mnist_small, tmp_path, TrainConfig(epochs=1), verbose=0)
    with pytest.raises(FileExistsError, match="already holds a run; continue it with --resume"):
        train(SMALL_SPEC, mnist_small, tmp_path, TrainConfig(epochs=1), verbose=0)


def test_resume_needs_a_completed_epoch(mnist_small, tmp_path):
    with pytest.raises(FileNotFoundError, match="Nothing to resume"):
        train(SMALL_SPEC, mnist_small, tmp_path, TrainConfig(epochs=1), resume=True)


def _nan_data():
    images = np.full((64, 28, 28, 1), np.nan, np.float32)
    batches = tf.data.Dataset.from_tensor_slices((images, np.zeros(64, np.int32))).batch(16)
    return ImageDataset(
        source="nan",
        class_names=tuple("0123456789"),
        image_shape=(28, 28, 1),
        splits={"train": batches},
        sizes={"train": 64},
        batch_size=16,
    )


def test_a_nan_loss_stops_the_run_and_says_so(tmp_path):
    # NOTE: no convolution or ReLU: TensorFlow's fused (oneDNN) conv + ReLU
    # kernels were seen to turn NaN inputs into zeros, so a ConvNet's loss
    # stayed finite. A dense softmax layer passes the NaN to the loss.
    image = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(image)
    model = keras.Model(image, keras.layers.Dense(10, activation="softmax")(flat))
    one_step = TrainConfig(epochs=3, steps_per_execution=1)
    with pytest.raises(TrainingDiverged, match="epoch 1, batch 1: the loss became NaN"):
        train(model, _nan_data(), tmp_path / "one", one_step, verbose=0)
    assert not (tmp_path / "one" / "state.json").exists()  # no diverged epoch saved
    # 32 batches an execution: the 4 batches of the epoch ran before Keras reported.
    with pytest.raises(TrainingDiverged, match="epoch 1, batches 1-4: the loss became NaN"):
        train(model, _nan_data(), tmp_path / "many", TrainConfig(epochs=3), verbose=0)


@pytest.mark.slow
def test_a_killed_run_resumes_and_loses_at_most_the_epoch_in_progress(tfds_data_dir, tmp_path):
    run = tmp_path / "run"
    args = [
        "train", write_spec(tmp_path), "--data", "tfds:mnist", "--data-dir", tfds_data_dir,
        "--max-examples", "6000", "--batch-size", "32", "--epochs", "4", "--out", run,
        "--verbose", "0", "--seed", "3",
    ]  # fmt: skip
    process = subprocess.Popen(
        kerascnn_command(*args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 240
        while not (run / "state.json").exists():
            assert process.poll() is None, "the run ended before its first epoch"
            assert time.monotonic() < deadline, "no epoch completed in time"
            time.sleep(0.05)
        time.sleep(0.3)  # into the next epoch
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    completed = json.loads((run / "state.json").read_text())["epoch"]
    before = json.loads((run / "history.json").read_text())[:completed]
    assert 1 <= completed < 4

    result = run_kerascnn(*args, "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    history = json.loads((run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert history[:completed] == before  # completed epochs were kept, not redone
    assert (run / "best.keras").is_file() and (run / "test_evaluation.json").is_file()


def test_cli_train_and_evaluate(tfds_data_dir, tmp_path):
    data = ["--data", "tfds:mnist", "--data-dir", tfds_data_dir, "--max-examples", "512"]
    trained = run_kerascnn(
        "train", write_spec(tmp_path), *data, "--epochs", "1", "--out", tmp_path / "run"
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "best model: test accuracy" in trained.stdout
    report = tmp_path / "report.json"
    evaluated = run_kerascnn("evaluate", tmp_path / "run", *data, "--json", report)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "test: accuracy" in evaluated.stdout and "confusion matrix" in evaluated.stdout
    saved = json.loads(report.read_text())
    assert saved["examples"] == 512 and len(saved["confusion_matrix"]) == 10


def test_cli_explains_bad_input(tmp_path):
    result = run_kerascnn(
        "train", write_spec(tmp_path), "--data", tmp_path / "no-such-folder", "--out", tmp_path
    )
    assert result.returncode == 2
    assert "No folder at" in result.stderr and "Traceback" not in result.stderr


def test_a_run_that_never_completed_an_epoch_says_to_start_again(mnist_small, tmp_path):
    (tmp_path / "run.json").write_text("{}")
    with pytest.raises(FileExistsError, match="stopped before completing an epoch"):
        train(SMALL_SPEC, mnist_small, tmp_path, TrainConfig(epochs=1), verbose=0)


@pytest.mark.slow
def test_mixed_precision_and_xla_options_train(mnist_small, tmp_path):
    config = TrainConfig(epochs=1, precision="mixed_bfloat16", jit_compile=True)
    with warnings.catch_warnings():
        # Keras warns, then trains without XLA, when it cannot honour it.
        warnings.filterwarnings("error", message=".*jit_compile")
        result = train(SMALL_SPEC, mnist_small, tmp_path, config, verbose=0)
    model = keras.saving.load_model(result.best_model_path)
    assert model.get_layer("block1_conv1").dtype_policy.name == "mixed_bfloat16"
    assert model.get_layer("predictions").dtype_policy.name == "float32"
    assert np.isfinite(result.history[0]["loss"])
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored


@pytest.mark.parametrize("momentum", [0.0, 1.0, 1.5])
def test_a_moving_average_outside_0_1_is_refused(momentum):
    with pytest.raises(UsageError, match=rf"e\.g\. 0\.999.*Received: ema_momentum={momentum}"):
        TrainConfig(ema_momentum=momentum)


def test_seed_and_xla_together_are_refused():
    with pytest.raises(ValueError, match="cannot be combined with `seed`"):
        TrainConfig(seed=1, jit_compile=True)
