"""build_model: the Keras model a spec describes."""

import keras
import numpy as np
import pytest

from kerascnn import ConvNetSpec, build_model
from kerascnn.layers import RectifiedFeatureMap, SumPooling2D
from tests.layers.reference import conv2d

SPEC = ConvNetSpec(
    name="small",
    input={"height": 20, "width": 18, "channels": 3, "grayscale": True},
    blocks=[
        {"filters": 6, "kernel_size": 5, "pooling": "sum", "batch_norm": True},
        {"filters": 12, "convs": 2, "pooling": "max", "pool_padding": "same", "dropout": 0.25},
        {"filters": 16, "pooling": "none"},
    ],
    head={"dense": [32, 16], "dropout": 0.1, "num_classes": 7},
)


def test_layer_names_are_stable_and_readable():
    names = [layer.name for layer in build_model(SPEC).layers]
    assert names == [
        "image",
        "rescale",
        "grayscale",
        "block1_conv1",
        "block1_bn1",
        "block1_relu1",
        "block1_pool",
        "block2_conv1",
        "block2_relu1",
        "block2_conv2",
        "block2_relu2",
        "block2_pool",
        "block2_dropout",
        "block3_conv1",
        "block3_relu1",
        "flatten",
        "fc1_dropout",
        "fc1",
        "fc2_dropout",
        "fc2",
        "predictions_dropout",
        "predictions",
    ]


def test_block_outputs_have_the_shapes_the_spec_computes():
    model = build_model(SPEC)
    last_of_block = ["block1_pool", "block2_dropout", "block3_relu1"]
    for name, shape in zip(last_of_block, SPEC.feature_map_shapes(), strict=True):
        assert tuple(model.get_layer(name).output.shape) == (None, *shape)
    assert tuple(model.output.shape) == (None, 7)


def test_blocks_use_the_kerascnn_layers():
    model = build_model(SPEC)
    assert isinstance(model.get_layer("block1_relu1"), RectifiedFeatureMap)
    assert isinstance(model.get_layer("block1_pool"), SumPooling2D)
    assert model.get_layer("block1_conv1").use_bias is False  # batch norm follows
    assert model.get_layer("block2_conv1").use_bias is True


def test_model_takes_raw_pixels_and_rescales_in_the_graph():
    spec = ConvNetSpec(input={"scale": 1 / 127.5, "offset": -1.0}, blocks=[{"filters": 2}])
    model = build_model(spec)
    rescaled = keras.Model(model.input, model.get_layer("rescale").output)
    pixels = np.stack([np.full((28, 28, 1), v, "float32") for v in (0.0, 127.5, 255.0)])
    out = keras.ops.convert_to_numpy(rescaled(pixels))
    np.testing.assert_allclose(out[:, 0, 0, 0], [-1.0, 0.0, 1.0], atol=1e-6)


def test_grayscale_input_is_converted_in_the_graph():
    model = build_model(SPEC)
    gray = keras.Model(model.input, model.get_layer("grayscale").output)
    rgb = np.random.default_rng(2).uniform(0, 255, size=(2, 20, 18, 3)).astype("float32")
    expected = keras.ops.image.rgb_to_grayscale(rgb / 255.0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(gray(rgb)), keras.ops.convert_to_numpy(expected), rtol=1e-4
    )


def test_predictions_are_probabilities():
    x = np.random.default_rng(0).uniform(0, 255, size=(4, 20, 18, 3)).astype("float32")
    probs = keras.ops.convert_to_numpy(build_model(SPEC)(x))
    assert probs.shape == (4, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("pooling", ["global_average", "global_max", "global_sum"])
def test_global_pooling_heads(pooling):
    spec = ConvNetSpec(blocks=[{"filters": 5}], head={"pooling": pooling, "num_classes": 3})
    model = build_model(spec)
    assert tuple(model.get_layer("global_pool").output.shape) == (None, 5)


def test_saved_and_loaded_model_gives_identical_outputs(tmp_path):
    model = build_model(SPEC)
    x = np.random.default_rng(1).uniform(0, 255, size=(3, 20, 18, 3)).astype("float32")
    path = tmp_path / "small.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.spec == SPEC
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )


def test_model_trains_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_model(ConvNetSpec(blocks=[{"filters": 4, "pooling": "sum"}]))
        assert keras.backend.standardize_dtype(model.get_layer("block1_relu1").output.dtype) == (
            "float16"
        )
        assert keras.backend.standardize_dtype(model.output.dtype) == "float32"
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        x = np.random.default_rng(0).uniform(0, 255, size=(8, 28, 28, 1)).astype("float32")
        loss = model.train_on_batch(x, np.arange(8) % 10)
        assert np.isfinite(loss)
    finally:
        keras.config.set_dtype_policy("float32")


def test_build_model_accepts_a_dict():
    assert build_model({"blocks": [{"filters": 3}]}).spec.blocks[0].filters == 3


@pytest.mark.parametrize(("in_channels", "strides"), [(4, 1), (3, 1), (4, 2)])
def test_a_shortcut_block_adds_its_input_before_the_last_relu(in_channels, strides):
    spec = ConvNetSpec(
        input={"height": 6, "width": 6, "channels": 1, "scale": 1.0},
        blocks=[
            {"filters": in_channels, "pooling": "none"},
            {"filters": 4, "convs": 2, "strides": strides, "shortcut": True, "pooling": "none"},
        ],
        head={"pooling": "global_sum", "num_classes": 2},
    )
    model = build_model(spec)
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(size=weight.shape).astype("float32"))
    image = rng.normal(size=(6, 6, 1)).astype("float32")

    def conv(x, name):
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in model.get_layer(name).weights)
        return conv2d(x[None], kernel, bias, "same")[0]

    x = np.maximum(conv(image, "block1_conv1"), 0)
    # TensorFlow's 'same' padding at stride 2 on an even side pads only the
    # bottom and right, so a 3x3 window is centred on odd pixels; a 1x1 one
    # needs no padding and takes the even pixels.
    y = np.maximum(conv(x, "block2_conv1"), 0)[strides - 1 :: strides, strides - 1 :: strides]
    y = conv(y, "block2_conv2")
    if in_channels != 4 or strides != 1:
        kernel, bias = (
            keras.ops.convert_to_numpy(w) for w in model.get_layer("block2_shortcut").weights
        )
        x = x[::strides, ::strides] @ kernel[0, 0] + bias
    expected = np.maximum(y + x, 0)

    probe = keras.Model(model.input, model.get_layer("block2_relu2").output)
    np.testing.assert_allclose(probe(image[None])[0], expected, rtol=1e-5, atol=1e-4)
    assert model.count_params() == spec.parameter_count()
