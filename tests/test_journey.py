"""The journey kerascnn exists for, walked as a user walks it: their own
labelled folder -> a preset fine-tuned on it -> artifacts on a device that
answer with *their* class names."""

import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.export.test_runners import BLOCKED

# Class names with a space and a non-ASCII letter, as users name folders.
ANIMAL, VEHICLE = "wild animal", "véhicule"
NAMES = [VEHICLE, ANIMAL]  # class folders in sorted order
ARTIFACTS = ("model.tflite", "model.int8.tflite", "model.opset17.onnx", "model.opset17-int8.onnx")
# The microcontroller artifact needs TFLite Micro (the dev extra has it).
MICRO = importlib.util.find_spec("tflite_micro") is not None


def _kerascnn_here(*args) -> str:
    """The command in this process (`kerascnn.cli.main`): what it printed."""
    from kerascnn import cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main([str(a) for a in args]) == 0
    return printed.getvalue()


@pytest.fixture(scope="module")
def journey(cifar10_folder, tmp_path_factory):
    """A user's folder of deer and car photos, fine-tuned, reloaded and
    exported: once through the `kerascnn` command, once in Python."""
    from kerascnn.export import export_model
    from kerascnn.zoo import finetune

    home = tmp_path_factory.mktemp("user")
    for name, source in ((ANIMAL, "deer"), (VEHICLE, "automobile")):
        for split, first in (("mine", 0), ("heldout", 0)):
            folder = home / split / name
            folder.mkdir(parents=True)
            kind = "train" if split == "mine" else "test"
            for photo in sorted((cifar10_folder / kind / source).glob("*.jpg"))[first : first + 30]:
                shutil.copy(photo, folder / photo.name)
    # A short linear probe keeps the test quick; the built-in one runs 30 epochs.
    recipe = {"stages": [{"name": "head", "train": "head", "epochs": 8, "learning_rate": 0.01}]}
    (home / "probe.json").write_text(json.dumps(recipe))
    formats = "tflite,onnx,micro" if MICRO else "tflite,onnx"
    _kerascnn_here(
        "finetune", "minivgg_m.cifar10", "--data", home / "mine", "--recipe", home / "probe.json",
        "--out", home / "runs" / "ft", "--seed", "0", "--verbose", "0",
    )  # fmt: skip
    report = _kerascnn_here(
        "export", home / "runs" / "ft", "--out", home / "ft_export", "--format", formats,
        "--quantize", "int8", "--data", home / "mine", "--samples", "60",
    )  # fmt: skip
    # The same journey in Python, as the README shows it.
    result = finetune(
        "minivgg_m.cifar10", home / "mine", home / "runs" / "py", home / "probe.json", seed=0,
        verbose=0,
    )  # fmt: skip
    export_model(
        result.model, home / "py_export", formats="tflite", quantize="int8",
        representative_data=home / "mine", samples=60, progress=False,
    )  # fmt: skip
    return home, report


def test_the_command_and_python_give_the_same_model(journey):
    import kerascnn
    from kerascnn.training import evaluate

    home, _ = journey
    by_command, in_python = (kerascnn.load(home / "runs" / run) for run in ("ft", "py"))
    for a, b in zip(by_command.get_weights(), in_python.get_weights()):
        np.testing.assert_array_equal(a, b)
    # A folder of class folders is held out whole: evaluated, not split.
    report = evaluate(in_python, home / "heldout")
    assert report.examples == 60 and report.class_names == tuple(NAMES)
    printed = _kerascnn_here("evaluate", home / "runs" / "ft", "--data", home / "heldout")
    assert f"{100 * report.accuracy:.2f}%" in printed
    assert report.accuracy > 0.7


def test_the_python_export_answers_with_the_users_class_names(journey, cifar10_folder):
    home, _ = journey
    photo = sorted((cifar10_folder / "test" / "deer").glob("*.jpg"))[0]
    result = subprocess.run(
        [sys.executable, str(ROOT / "export" / "classify_tflite.py"),
         str(home / "py_export" / "model.int8.tflite"), str(photo)],
        capture_output=True, text=True, encoding="utf-8", check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split("\t")[0] == ANIMAL
    if MICRO:
        # The firmware's C source names the classes in UTF-8 (octal escapes keep it ASCII).
        source = (home / "ft_export" / "micro" / "model_data.cc").read_text(encoding="ascii")
        assert '"wild animal"' in source and r'"v\303\251hicule"' in source


def test_labels_and_every_artifact_carry_the_users_class_names(journey):
    home, _ = journey
    from kerascnn.export.artifact import read_metadata

    out = home / "ft_export"
    assert (out / "labels.txt").read_text(encoding="utf-8").splitlines() == NAMES
    for artifact in ARTIFACTS:
        assert read_metadata(out / artifact)["class_names"] == NAMES, artifact
        sidecar = json.loads((out / f"{artifact}.json").read_text(encoding="utf-8"))
        assert sidecar["class_names"] == NAMES, artifact
        assert sidecar["provenance"]["preset"] == "minivgg_m.cifar10"


def test_the_reloaded_model_still_knows_its_classes(journey):
    import keras

    home, _ = journey
    model = keras.saving.load_model(home / "runs" / "ft" / "final.keras")  # Keras alone
    assert model.class_names == NAMES
    assert model.provenance["recipe"] == "probe"


@pytest.mark.parametrize(
    "runner, artifact",
    [
        ("classify_tflite.py", "model.tflite"),
        ("classify_tflite.py", "model.int8.tflite"),
        ("classify_onnx.py", "model.opset17.onnx"),
        ("classify_onnx.py", "model.opset17-int8.onnx"),
    ],
)
def test_the_runners_answer_with_the_users_class_name(
    journey, cifar10_folder, runner, artifact, tmp_path
):
    home, _ = journey
    # Photos the model never saw: the test split's.
    blocker = tmp_path / "blocked"
    for name in BLOCKED:
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('{name}')\n")
    for source, expected in (("automobile", VEHICLE), ("deer", ANIMAL)):
        photo = sorted((cifar10_folder / "test" / source).glob("*.jpg"))[0]
        result = subprocess.run(
            [sys.executable, str(ROOT / "export" / runner), str(home / "ft_export" / artifact),
             str(photo), "--top", "2"],
            capture_output=True, text=True, encoding="utf-8", check=False,
            env={**os.environ, "PYTHONPATH": str(blocker), "PYTHONIOENCODING": "utf-8"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0].split("\t")[0] == expected


@pytest.mark.skipif(not MICRO, reason="needs tflite-micro (pip install 'kerascnn[micro]')")
def test_a_microcontroller_answers_with_the_users_class_name(journey, cifar10_folder):
    from PIL import Image
    from tflite_micro.python.tflite_micro import runtime

    home, _ = journey
    folder = home / "ft_export" / "micro"
    metadata = json.loads((folder / "kerascnn_metadata.json").read_text(encoding="utf-8"))
    arena = json.loads((folder / "micro.json").read_text())["arena_bytes"]
    # TFLite Micro's own interpreter in the arena the export measured, fed
    # int8 pixels as firmware would.
    interpreter = runtime.Interpreter.from_bytes(
        (folder / "model.tflite").read_bytes(), arena_size=arena
    )
    quantization = interpreter.get_input_details(0)["quantization_parameters"]
    scale, zero = quantization["scales"][0], quantization["zero_points"][0]
    for source, expected in (("automobile", VEHICLE), ("deer", ANIMAL)):
        photo = sorted((cifar10_folder / "test" / source).glob("*.jpg"))[0]
        pixels = np.asarray(Image.open(photo).convert("RGB"), dtype="float32")
        interpreter.set_input(
            np.clip(np.round(pixels / scale) + zero, -128, 127).astype(np.int8)[None], 0
        )
        interpreter.invoke()
        assert metadata["class_names"][int(np.argmax(interpreter.get_output(0)))] == expected
        # The standalone runner reads the bare flatbuffer's metadata from its folder.
        result = subprocess.run(
            [sys.executable, str(ROOT / "export" / "classify_tflite.py"),
             str(folder / "model.tflite"), str(photo)],
            capture_output=True, text=True, encoding="utf-8", check=False,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[0].split("\t")[0] == expected


@pytest.mark.slow
def test_the_inspection_page_names_the_users_classes(journey, cifar10_folder):
    home, _ = journey
    photo = sorted((cifar10_folder / "test" / "automobile").glob("*.jpg"))[0]
    printed = _kerascnn_here(
        "inspect", home / "runs" / "ft" / "final.keras", photo, "--out", home / "page"
    )
    assert printed.splitlines()[0].split("\t")[0] == VEHICLE
    page = (home / "page" / "index.html").read_text(encoding="utf-8")
    assert f"Prediction: <strong>{VEHICLE}</strong>" in page
    assert ANIMAL in page
