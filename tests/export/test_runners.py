"""The deployment kit's runners classify real digits with only their runtime."""

import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.conftest import ROOT, read_idx, shared

BLOCKED = ("kerascnn", "tensorflow", "keras", "tf_keras")


@pytest.fixture(scope="module")
def blocker(tmp_path_factory):
    """A folder that makes kerascnn, TensorFlow and Keras fail to import."""
    folder = tmp_path_factory.mktemp("blocked")
    for name in BLOCKED:
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(
            f"raise ImportError('{name} must not be needed by a standalone runner')\n"
        )
    return folder


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The first ten MNIST test digits as PNG files, with their labels."""
    folder = shared("mnist")
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz")[:10]
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz")[:10]
    out = tmp_path_factory.mktemp("digits")
    paths = []
    for k, image in enumerate(images):
        paths.append(out / f"digit{k}.png")
        Image.fromarray(image).save(paths[-1])
    return list(zip(paths, labels.tolist()))


def _classify(runner, model, image, blocker):
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "export" / runner), str(model), str(image), "--top", "2"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    best, probability = result.stdout.splitlines()[0].split("\t")
    return best, float(probability)


@pytest.mark.parametrize(
    "runner, artifact",
    [
        ("classify_tflite.py", "model.tflite"),
        ("classify_tflite.py", "model.int8.tflite"),
        ("classify_tflite.py", "model.uint8.tflite"),
        ("classify_onnx.py", "model.opset17.onnx"),
        ("classify_onnx.py", "model.opset13-int8.onnx"),
    ],
)
def test_runner_classifies_real_mnist_digits(runner, artifact, lenet5_export, digits, blocker):
    out, _ = lenet5_export
    answers = [_classify(runner, out / artifact, path, blocker) for path, _ in digits[:3]]
    assert [name for name, _ in answers] == [str(label) for _, label in digits[:3]]
    assert all(0.5 < probability <= 1.0 for _, probability in answers)


@pytest.mark.parametrize("module", BLOCKED)
def test_the_blocker_blocks(blocker, module, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0 and "must not be needed" in result.stderr


@pytest.mark.parametrize("runner", ["classify_tflite.py", "classify_onnx.py"])
def test_runner_answers_bad_paths_in_one_line(runner, lenet5_export, digits, blocker, tmp_path):
    out, _ = lenet5_export
    artifact = out / ("model.tflite" if runner.endswith("tflite.py") else "model.opset17.onnx")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not pixels")
    cases = [
        (tmp_path / "missing.model", digits[0][0], "model '"),
        (artifact, tmp_path / "missing.png", "image '"),
        (artifact, not_an_image, "not an image Pillow can read"),
    ]
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    for model, image, message in cases:
        result = subprocess.run(
            [sys.executable, str(ROOT / "export" / runner), str(model), str(image)],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert result.stdout == ""


def _without_kerascnn_metadata(artifact, folder):
    """The same network as `artifact`, saved without what kerascnn adds to it."""
    bare = folder / artifact.name
    if artifact.suffix == ".onnx":
        import onnx

        model = onnx.load(artifact)
        del model.metadata_props[:]
        onnx.save(model, bare)
    else:
        # The metadata is a zip appended to the flatbuffer: keep what precedes it.
        data = artifact.read_bytes()
        bare.write_bytes(data[: data.index(b"PK\x03\x04")])
    return bare


@pytest.mark.parametrize("runner", ["classify_tflite.py", "classify_onnx.py"])
def test_runner_answers_a_model_kerascnn_did_not_write_in_one_line(
    runner, lenet5_export, digits, blocker, tmp_path
):
    out, _ = lenet5_export
    artifact = out / ("model.tflite" if runner.endswith("tflite.py") else "model.opset17.onnx")
    garbage = tmp_path / f"garbage{artifact.suffix}"
    garbage.write_bytes(b"not a model")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    for model in (_without_kerascnn_metadata(artifact, tmp_path), garbage):
        result = subprocess.run(
            [sys.executable, str(ROOT / "export" / runner), str(model), str(digits[0][0])],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert f"model '{model}'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == "", result.stderr
