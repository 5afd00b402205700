"""Atomic writes, refusals and the errors users meet."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from kerascnn.export import ExportError, export_model
from kerascnn.zoo import create_model
from tests.export.artifacts import ort_predict


def _small_model():
    image = keras.Input((8, 8, 1), name="image")
    x = keras.layers.Conv2D(4, 3, activation="relu")(image)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, keras.layers.Dense(3, activation="softmax")(x))


@keras.saving.register_keras_serializable(package="kerascnn_tests")
class CumulativeProduct(keras.layers.Layer):
    """Cumprod has no TFLite builtin and no tf2onnx conversion."""

    def call(self, x):
        return keras.ops.cumprod(x, axis=-1)


def _model_with_cumprod():
    image = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3)(image)
    x = CumulativeProduct()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(image, keras.layers.Dense(3, activation="softmax")(x))


def test_a_model_never_called_exports(tmp_path):
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
         keras.layers.Dense(3, activation="softmax")]
    )  # fmt: skip
    report = export_model(model, tmp_path / "out", formats="onnx", progress=False)
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(
        ort_predict(tmp_path / "out" / "model.opset17.onnx", x), model.predict(x, verbose=0),
        atol=1e-4,
    )  # fmt: skip
    assert report.metadata["class_names"] == ["0", "1", "2"]


def test_a_folder_of_the_users_is_never_replaced_even_with_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="force"):
        export_model(_small_model(), out, formats="onnx", progress=False)
    with pytest.raises(FileExistsError, match="did not write"):
        export_model(_small_model(), out, formats="onnx", progress=False, force=True)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert (out / "mine.txt").read_text() == "keep me"


def test_force_replaces_a_folder_an_export_wrote(tmp_path):
    out = tmp_path / "out"
    export_model(_small_model(), out, formats="onnx", progress=False)
    with pytest.raises(FileExistsError, match="force"):
        export_model(_small_model(), out, formats="onnx", progress=False)
    export_model(_small_model(), out, formats="onnx", opsets=(13,), progress=False, force=True)
    assert (out / "model.opset13.onnx").is_file() and not (out / "model.opset17.onnx").exists()


def test_an_artifact_over_tolerance_fails_and_writes_nothing(tmp_path, monkeypatch):
    from kerascnn.export import runtimes

    real_runner = runtimes.runner

    def drifting_runner(path):
        run = real_runner(path)
        return lambda images: run(images) + 1e-3  # a converter that drifts

    monkeypatch.setattr(runtimes, "runner", drifting_runner)
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=r"differ from Keras by up to 0\.001.*tolerance 0\.0001"):
        export_model(_small_model(), out, formats="tflite", progress=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def _flipped(samples, changed):
    """Keras outputs for `samples` images and an artifact's that change the
    top-1 class of `changed` of them."""
    reference = np.random.default_rng(0).dirichlet(np.ones(10), size=samples)
    outputs = reference.copy()
    outputs[:changed] = np.roll(outputs[:changed], 1, axis=1)
    return reference, outputs


@pytest.mark.parametrize(
    "samples, allowed", [(80, 3), (256, 8), (1000, 27)]
)  # most answers that may change while 98% stays inside the 95% interval
def test_the_int8_gate_refuses_only_what_its_images_show(samples, allowed):
    from kerascnn.export import runtimes

    def check(changed):
        result = runtimes.parity(*_flipped(samples, changed))
        assert result.top1_agreement == (samples - changed) / samples
        runtimes.check("model.int8.tflite", result, quantized=True, tolerance=1e-4,
                       agreement=0.98)  # fmt: skip

    check(allowed)  # e.g. 78 of 80 (97.5%): two near-ties flipping prove nothing
    with pytest.raises(ExportError, match=r"--data for kerascnn export.*or use a float variant"):
        check(allowed + 1)


def test_the_gate_bound_is_the_wilson_interval():
    from kerascnn.export.runtimes import agreement_upper_bound

    stats = pytest.importorskip("scipy.stats")
    for samples in (1, 10, 80, 256, 1000):
        for agreeing in {0, samples // 2, max(0, samples - 3), samples - 1, samples}:
            # A two-sided 90% interval's upper end is the one-sided 95% bound.
            high = stats.binomtest(agreeing, samples).proportion_ci(0.90, "wilson").high
            assert agreement_upper_bound(agreeing / samples, samples) == pytest.approx(
                high, abs=1e-4
            )


@pytest.mark.slow
def test_a_killed_export_leaves_nothing_at_the_destination(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "kerascnn", "export", "lenet5", "--out", str(out),
         "--quantize", "float16,dynamic"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    # Kill it in the middle: once the first artifact is written.
    for line in iter(process.stderr.readline, ""):
        if "[2/" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(0.1)
    assert not out.exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers and all(name.startswith(f".out.{process.pid}.") for name in leftovers)
    # The next export of that folder removes what the killed one left.
    export_model(_small_model(), out, formats="onnx", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_flex_ops_are_refused_by_name_unless_allowed(tmp_path, capsys):
    model = _model_with_cumprod()
    with pytest.raises(ExportError, match=r"not TFLite builtins: Cumprod\. .*allow_flex"):
        export_model(model, tmp_path / "a", formats="tflite", progress=False)
    report = export_model(
        model, tmp_path / "b", formats="tflite", allow_flex=True, verify=False, progress=False
    )
    assert "FlexCumprod" in report.artifacts[0].ops
    assert "FlexCumprod" in report.artifacts[0].gpu_delegate_unsupported
    # LiteRT's Python interpreter cannot run it: one line naming the op.
    from kerascnn import cli

    assert cli.main(["evaluate", str(tmp_path / "b" / "model.tflite"), "--data", "x"]) == 2
    assert "uses Select TF ops (FlexCumprod)" in capsys.readouterr().err


def test_an_unconvertible_layer_is_named_for_onnx(tmp_path):
    with pytest.raises(ExportError, match=r"could not convert .*: Cumprod"):
        export_model(_model_with_cumprod(), tmp_path / "out", formats="onnx", progress=False)
    assert not (tmp_path / "out").exists()


def test_a_mixed_precision_convnet_exports_as_itself_in_float32(tmp_path):
    from kerascnn.export import load_artifact
    from kerascnn.zoo import create_model

    model = create_model("lenet5.mnist", dtype="mixed_bfloat16", class_names=list("abcdefghij"))
    export_model(model, tmp_path / "out", formats="tflite", progress=False)
    artifact = load_artifact(tmp_path / "out" / "model.tflite")
    assert artifact.class_names == list("abcdefghij")
    assert artifact.metadata["provenance"]["preset"] == "lenet5.mnist"
    assert model.dtype_policy.name == "mixed_bfloat16"  # the caller's model is unchanged


def test_another_mixed_precision_model_is_refused(tmp_path):
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, dtype="mixed_float16")]
    )
    with pytest.raises(ExportError, match=r"mixed_float16.*float32"):
        export_model(model, tmp_path / "out", progress=False)


def test_a_missing_exporter_dependency_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # import tf2onnx -> ImportError
    with pytest.raises(ExportError, match="pip install tf2onnx"):
        export_model(_small_model(), tmp_path / "out", formats="onnx", progress=False)


def test_a_model_without_a_fixed_image_input_is_refused(tmp_path):
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ExportError, match=r"keras.Input\(shape=\(H, W, C\)\)"):
        export_model(unbuilt, tmp_path / "out", progress=False)
    image = keras.Input((None, None, 3))
    free = keras.Model(image, keras.layers.GlobalAveragePooling2D()(image))
    with pytest.raises(ExportError, match="free image size"):
        export_model(free, tmp_path / "out", progress=False)


def test_integer_quantization_needs_representative_images(tmp_path):
    with pytest.raises(ExportError, match="representative"):
        export_model(create_model("lenet5"), tmp_path / "out", quantize="int8", progress=False)


def test_bad_format_and_quantize_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown formats 'tflit'"):
        export_model(_small_model(), tmp_path / "out", formats="tflit")
    with pytest.raises(ValueError, match="Unknown quantize 'int4'"):
        export_model(_small_model(), tmp_path / "out", quantize="int4")


def test_a_non_utf8_path_to_an_onnx_export_runs(lenet5_export, tmp_path, mnist_test):
    from kerascnn.export import load_artifact

    out, _ = lenet5_export
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9"))  # Latin-1, not UTF-8
    folder.mkdir()
    shutil.copy(out / "model.opset17.onnx", folder / "model.onnx")
    shutil.copy(out / "model.tflite", folder / "model.tflite")
    images, _ = mnist_test
    reference = load_artifact(out / "model.opset17.onnx").predict_on_batch(images[:8])
    for name in ("model.onnx", "model.tflite"):
        np.testing.assert_allclose(
            load_artifact(folder / name).predict_on_batch(images[:8]), reference, atol=1e-5
        )
