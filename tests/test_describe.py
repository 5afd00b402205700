"""describe(): shapes, parameters and MACs per layer, checked by hand."""

import json

import keras
import pytest

from kerascnn import ConvNetSpec, build_model, describe

LENET5 = ConvNetSpec(
    name="lenet5",
    blocks=[
        {"filters": 6, "kernel_size": 5, "pooling": "average"},
        {"filters": 16, "kernel_size": 5, "padding": "valid", "pooling": "average"},
    ],
    head={"dense": [120, 84]},
)


def test_lenet5_has_its_published_parameter_count():
    # LeCun et al. 1998 with a 28x28 input padded to 32x32: 61,706 parameters.
    assert describe(LENET5).total_params == 61_706


def test_rows_give_shape_params_and_macs():
    rows = {row.name: row for row in describe(LENET5).layers}
    conv1, conv2, fc1 = rows["block1_conv1"], rows["block2_conv1"], rows["fc1"]
    assert conv1.output_shape == (28, 28, 6)
    assert conv1.params == 6 * (5 * 5 * 1 + 1)
    assert conv1.macs == 28 * 28 * 6 * (5 * 5 * 1)
    assert conv2.output_shape == (10, 10, 16)
    assert conv2.macs == 10 * 10 * 16 * (5 * 5 * 6)
    assert fc1.params == 400 * 120 + 120
    assert fc1.macs == 400 * 120
    assert rows["block1_relu1"].macs == 0


def test_totals_agree_with_keras():
    model = build_model(LENET5)
    description = describe(model)
    assert description.total_params == model.count_params()
    # By hand: conv1 28x28x6 outputs of 5x5x1, conv2 10x10x16 of 5x5x6, then
    # 400->120->84->10 dense; ReLU and average pooling are not multiply-adds.
    by_hand = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    assert description.total_macs == by_hand


def test_compares_with_a_fully_connected_layer_on_the_raw_pixels():
    comparison = describe(LENET5).dense_comparison
    assert comparison.pixels == 784  # weights per fully connected neuron on 28x28
    assert comparison.weights_per_filter == 25
    assert comparison.units == 28 * 28 * 6
    assert comparison.dense_params == (784 + 1) * 28 * 28 * 6
    assert comparison.conv_params == 156


def test_text_table_and_json():
    description = describe(LENET5)
    text = str(description)
    assert "block1_conv1" in text and "61,706" in text
    assert "784" in text and "3,692,640" in text
    data = json.loads(json.dumps(description.to_dict()))
    assert data["total_params"] == 61_706


def test_describes_other_keras_models_with_separable_and_depthwise_convs():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.DepthwiseConv2D(3, padding="same")(inputs)
    x = keras.layers.SeparableConv2D(8, 3, padding="same")(x)
    model = keras.Model(inputs, x)
    rows = {row.kind: row for row in describe(model).layers}
    assert rows["DepthwiseConv2D"].macs == 16 * 16 * 3 * 9
    assert rows["SeparableConv2D"].macs == 16 * 16 * 3 * 9 + 16 * 16 * 3 * 8


def test_refuses_other_objects():
    with pytest.raises(TypeError, match="ConvNetSpec, its dict or a Keras model"):
        describe("lenet5")
