"""Every family to every format, checked in the real runtimes; quantized
variants; sum pooling's borders; metadata; signatures."""

import json
import zipfile

import keras
import numpy as np
import pytest

from kerascnn.export import export_model
from kerascnn.layers import SumPooling2D
from kerascnn.zoo import create_model, list_models
from kerascnn.zoo.registry import get_entry
from tests.export.artifacts import litert_predict, ort_predict, saved_model_predict
from tests.layers.reference import sum_pool

# The smallest variant of each family.
SMALLEST = {
    "seed_cnn": "seed_cnn_tiny",
    "lenet5": "lenet5",
    "minivgg": "minivgg_s",
    "alexnet": "alexnet_mini",
    "mobilecnn": "mobilecnn_050",
    "resnet8": "resnet8",
    "tinyvgg": "tinyvgg_8k",
}
FAMILIES = sorted(SMALLEST.values())
FLOAT_ARTIFACTS = ("saved_model", "model.tflite", "model.opset13.onnx", "model.opset17.onnx")


def _run(path, images):
    if path.name == "saved_model":
        return saved_model_predict(path, images)
    if path.suffix == ".tflite":
        return litert_predict(path, images)
    return ort_predict(path, images)


def test_every_family_is_swept():
    assert set(SMALLEST) == {get_entry(name).family for name in list_models()}


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_exports_to_every_format_with_parity(name, tmp_path):
    model = create_model(name)
    shape = model.input_shape[1:]
    images = np.random.default_rng(1).uniform(0, 255, (8, *shape)).astype("float32")
    report = export_model(model, tmp_path / "out", opsets=(13, 17), progress=False)
    assert [a.path for a in report.artifacts] == list(FLOAT_ARTIFACTS)
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    for artifact in FLOAT_ARTIFACTS:
        np.testing.assert_allclose(
            _run(tmp_path / "out" / artifact, images), expected, atol=1e-4, err_msg=artifact
        )
    # ONNX batch is dynamic: one image and eight give the same answers.
    single = ort_predict(tmp_path / "out" / "model.opset17.onnx", images[:1])
    np.testing.assert_allclose(single, expected[:1], atol=1e-4)


def test_quantized_variants_agree_with_keras_on_real_digits(lenet5_export, mnist_test):
    out, report = lenet5_export
    images, labels = mnist_test
    keras_top1 = create_model("lenet5.mnist").predict(images, verbose=0).argmax(-1)
    float_accuracy = np.mean(keras_top1 == labels)
    for name in (
        "model.float16.tflite",
        "model.dynamic.tflite",
        "model.int8.tflite",
        "model.uint8.tflite",
        "model.opset17-int8.onnx",
    ):
        top1 = _run(out / name, images).argmax(-1)
        assert np.mean(top1 == keras_top1) >= 0.98, name
        assert np.mean(top1 == labels) >= float_accuracy - 0.01, name
    sizes = {a.path: a.size_bytes for a in report.artifacts}
    assert sizes["model.int8.tflite"] <= 0.31 * sizes["model.tflite"]


def test_integer_variants_take_integer_pixels(lenet5_export):
    from ai_edge_litert.interpreter import Interpreter

    out, _ = lenet5_export
    for variant in ("int8", "uint8"):
        interpreter = Interpreter(model_path=str(out / f"model.{variant}.tflite"))
        assert interpreter.get_input_details()[0]["dtype"] == np.dtype(variant)
        assert interpreter.get_output_details()[0]["dtype"] == np.dtype(variant)
        sidecar = json.loads((out / f"model.{variant}.tflite.json").read_text())
        assert sidecar["input"]["dtype"] == variant


def test_sum_pooling_keeps_same_padding_borders_in_every_format(tmp_path):
    image = keras.Input((7, 7, 3))
    pooled = SumPooling2D(pool_size=3, strides=2, padding="same")(image)
    model = keras.Model(image, pooled)
    # Integers: every sum is exact in float32, so any border error shows.
    x = np.random.default_rng(0).integers(0, 256, (4, 7, 7, 3)).astype("float32")
    expected = sum_pool(x, (3, 3), (2, 2), "same")
    export_model(model, tmp_path / "out", opsets=(13, 17), progress=False)
    for artifact in FLOAT_ARTIFACTS:
        got = _run(tmp_path / "out" / artifact, x)
        np.testing.assert_array_equal(got, expected, err_msg=artifact)


def test_every_artifact_carries_its_metadata_inside_and_in_its_sidecar(lenet5_export):
    import onnx
    import onnxruntime

    out, report = lenet5_export
    sidecars = {a.path: json.loads((out / f"{a.path}.json").read_text()) for a in report.artifacts}
    for path, sidecar in sidecars.items():
        assert sidecar["class_names"] == [str(d) for d in range(10)], path
        assert sidecar["source"] == "lenet5.mnist"
        assert sidecar["preprocessing"]["input_shape"] == [28, 28, 1]
        assert sidecar["fingerprint"] == report.metadata["fingerprint"]
    assert sidecars["model.uint8.tflite"]["input"]["dtype"] == "uint8"
    assert sidecars["model.tflite"]["input"]["dtype"] == "float32"

    for name in ("model.opset17.onnx", "model.opset13-int8.onnx"):
        props = {p.key: p.value for p in onnx.load(str(out / name)).metadata_props}
        assert json.loads(props["kerascnn"]) == sidecars[name]
        assert json.loads(props["class_names"]) == sidecars[name]["class_names"]
    session = onnxruntime.InferenceSession(str(out / "model.opset17-int8.onnx"))
    carried = json.loads(session.get_modelmeta().custom_metadata_map["kerascnn"])
    assert carried == sidecars["model.opset17-int8.onnx"]
    for name in ("model.tflite", "model.uint8.tflite"):
        with zipfile.ZipFile(out / name) as archive:
            assert json.loads(archive.read("kerascnn_metadata.json")) == sidecars[name]
            assert archive.read("labels.txt").decode().split() == sidecars[name]["class_names"]
    assets = out / "saved_model" / "assets"
    assert json.loads((assets / "kerascnn_metadata.json").read_text()) == sidecars["saved_model"]
    saved = json.loads((out / "report.json").read_text())
    assert saved["fingerprint"] == report.metadata["fingerprint"]


def test_the_fingerprint_follows_the_weights(tmp_path):
    from kerascnn.export.metadata import fingerprint

    model = create_model("lenet5.mnist")
    before = fingerprint(model)
    assert fingerprint(create_model("lenet5.mnist")) == before
    kernel = model.get_layer("fc1").kernel
    kernel.assign(kernel * 1.001)
    after = fingerprint(model)
    assert after["spec_sha256"] == before["spec_sha256"]
    assert after["weights_sha256"] != before["weights_sha256"]


def test_saved_model_serves_raw_pixels_and_rectified_feature_maps(lenet5_export, mnist_test):
    import tensorflow as tf

    out, _ = lenet5_export
    images = mnist_test[0][:4]
    loaded = tf.saved_model.load(str(out / "saved_model"))
    assert set(loaded.signatures) == {"serving_default", "feature_maps"}
    maps = loaded.signatures["feature_maps"](image=tf.constant(images))
    model = create_model("lenet5.mnist")
    assert set(maps) == {"block1_relu1", "block2_relu1"}
    # The rectified map is max(conv, 0) of the layer's own convolution.
    conv = keras.Model(model.input, model.get_layer("block1_conv1").output)
    expected = np.maximum(keras.ops.convert_to_numpy(conv(images)), 0)
    np.testing.assert_allclose(maps["block1_relu1"].numpy(), expected, atol=1e-4)
    assert (maps["block1_relu1"].numpy() >= 0).all()


def test_report_lists_ops_and_gpu_delegate_coverage(lenet5_export):
    from ai_edge_litert.interpreter import Interpreter

    out, report = lenet5_export
    tflite = next(a for a in report.artifacts if a.path == "model.tflite")
    interpreter = Interpreter(model_path=str(out / "model.tflite"))
    seen = {op["op_name"] for op in interpreter._get_ops_details()}
    assert set(tflite.ops) == seen
    # Sum pooling lowers to one depthwise convolution, which the GPU delegate runs.
    assert "DEPTHWISE_CONV_2D" in seen and "AVERAGE_POOL_2D" not in seen
    # kerascnn's Flatten keeps the batch free without a SHAPE op, so the GPU
    # delegate takes the whole float model.
    assert tflite.gpu_delegate_unsupported == []
    assert tflite.gpu_delegate_compatible
    saved = json.loads((out / "report.json").read_text())
    assert [a["path"] for a in saved["artifacts"]] == [a.path for a in report.artifacts]
    assert all(a["parity"]["samples"] == 256 for a in saved["artifacts"])
    text = str(report)
    assert "model.int8.tflite" in text and "top-1" in text


def test_gpu_delegate_list_excludes_ops_the_analyzer_wrongly_passes():
    from kerascnn.export.tflite import gpu_unsupported

    assert gpu_unsupported(["CONV_2D", "TOPK_V2", "CUMSUM", "FlexErf", "SHAPE"]) == [
        "TOPK_V2",
        "CUMSUM",
        "FlexErf",
        "SHAPE",
    ]
