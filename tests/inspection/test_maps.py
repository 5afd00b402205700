"""Feature maps, filters and statistics against independent computations."""

import keras
import numpy as np
import pytest

from kerascnn.inspection import feature_maps, filters, grad_cam, map_statistics, steps
from kerascnn.zoo import create_model, list_models
from tests.conftest import read_idx, shared
from tests.layers.reference import conv2d, sum_pool


@pytest.fixture(scope="module")
def digits():
    folder = shared("mnist")
    return read_idx(folder / "t10k-images-idx3-ubyte.gz")[:4, :, :, None].astype("float32")


def test_lenet5_maps_equal_an_independent_computation(digits):
    model = create_model("lenet5.mnist")
    maps = feature_maps(model, digits)
    blocks = [f"block{k}_{layer}" for k in (1, 2) for layer in ("conv1", "relu1", "pool")]
    assert list(maps) == blocks
    spec = model.spec.input
    x = digits * spec.scale + spec.offset
    conv = model.get_layer("block1_conv1")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (conv.kernel, conv.bias))
    expected_conv = conv2d(x, kernel, bias, conv.padding)
    np.testing.assert_allclose(maps["block1_conv1"], expected_conv, atol=1e-4)
    # The rectified map is max(conv, 0) of the layer's own convolution...
    np.testing.assert_allclose(maps["block1_relu1"], np.maximum(expected_conv, 0), atol=1e-4)
    # ...and the pooled map the NumPy sum-pooling reference of it.
    pool = model.get_layer("block1_pool")
    expected_pool = sum_pool(maps["block1_relu1"], pool.pool_size, pool.strides, pool.padding)
    np.testing.assert_allclose(maps["block1_pool"], expected_pool, rtol=1e-5, atol=1e-4)


def test_requested_layers_come_back_in_the_order_asked():
    model = create_model("minivgg_s")
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    maps = feature_maps(model, images, layers=["block3_pool", "block2_relu2"])
    assert list(maps) == ["block3_pool", "block2_relu2"]
    assert maps["block3_pool"].shape == (2, 4, 4, 64)
    assert (maps["block2_relu2"] >= 0).all()


def test_unknown_layer_names_list_the_valid_ones(digits):
    model = create_model("lenet5.mnist")
    with pytest.raises(ValueError, match=r"no feature map named 'fc1'.*block1_conv1, block1_relu1"):
        feature_maps(model, digits, layers=["fc1"])


def test_any_functional_model_with_relu_layers_works():
    image = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, name="c1")(image)
    x = keras.layers.ReLU(name="r1")(x)
    x = keras.layers.MaxPooling2D(name="p1")(x)
    x = keras.layers.Conv2D(5, 3, name="c2")(x)
    x = keras.layers.ReLU(name="r2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(2, activation="softmax")(x))
    assert [s.layers for s in steps(model)] == [["c1", "r1", "p1"], ["c2", "r2"]]
    maps = feature_maps(model, np.ones((1, 12, 12, 3)))
    np.testing.assert_allclose(maps["r1"], np.maximum(maps["c1"], 0))
    assert set(filters(model)) == {"c1", "c2"}


def test_a_shortcut_blocks_rectified_map_pairs_with_its_main_path_convolution():
    # In resnet8's projecting blocks the 1x1 shortcut is the last convolution
    # built before the block's second ReLU; the map still comes from conv2.
    pairs = {step.rectified: step.conv for step in steps(create_model("resnet8"))}
    assert pairs == {
        "block1_relu1": "block1_conv1",
        "block2_relu1": "block2_conv1",
        "block2_relu2": "block2_conv2",
        "block3_relu1": "block3_conv1",
        "block3_relu2": "block3_conv2",
        "block4_relu1": "block4_conv1",
        "block4_relu2": "block4_conv2",
    }


def test_a_model_without_rectified_layers_is_refused():
    image = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu")(image)
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match="no RectifiedFeatureMap or ReLU layer"):
        feature_maps(model, np.ones((1, 8, 8, 1)))


def test_the_filters_shown_compute_the_convolution_maps(digits):
    # Slid over the image by a NumPy convolution, the filters `filters` returns
    # give the convolution maps the network computed: they are the ones it uses.
    model = create_model("lenet5.mnist")
    kernels = filters(model)
    assert list(kernels) == ["block1_conv1", "block2_conv1"]
    assert kernels["block1_conv1"].shape == (5, 5, 1, 6)
    maps = feature_maps(model, digits[:2], layers=["block1_conv1"])["block1_conv1"]
    bias = keras.ops.convert_to_numpy(model.get_layer("block1_conv1").bias)
    x = digits[:2].astype("float64") / 255.0
    expected = conv2d(x, kernels["block1_conv1"], bias, "same")
    np.testing.assert_allclose(maps, expected, atol=1e-4)


def test_statistics_match_a_direct_count():
    maps = {"m": np.array([[[[0.0, 2.0], [0.0, 4.0]]]])}  # 1x1x2x2: channel 1 is stronger
    stats = map_statistics(maps, top=2)["m"]
    assert stats.sparsity == 0.5 and stats.mean == 1.5 and stats.max == 4.0
    assert stats.top_channels == [(1, 3.0), (0, 0.0)]


def test_grad_cam_points_at_the_digit(digits):
    model = create_model("lenet5.mnist")
    heat, label = grad_cam(model, digits[0])
    assert label == int(model.predict(digits[:1], verbose=0).argmax())
    assert heat.shape == (28, 28) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    ink = digits[0, :, :, 0] > 0
    # The heat is where the ink is: far more of it on stroke pixels than off them.
    assert heat[ink].mean() > 2 * heat[~ink].mean()


@pytest.mark.parametrize("name", list_models())
def test_every_zoo_model_shows_each_step(name):
    model = create_model(name)
    images = np.random.default_rng(0).uniform(0, 255, (2, *model.input_shape[1:]))
    maps = feature_maps(model, images)
    for step in steps(model):
        assert (maps[step.rectified] >= 0).all()
        if step.pooled:
            pooled, rectified = maps[step.pooled].shape, maps[step.rectified].shape
            assert pooled[-1] == rectified[-1] and pooled[1] < rectified[1]


@pytest.mark.parametrize("name", ["minivgg_s", "resnet8", "mobilecnn_050", "lenet5"])
def test_a_convnet_declares_the_steps_its_graph_has(name):
    model = create_model(name)
    declared = steps(model)
    # The same layers as a plain functional model: its steps are traced
    # through the graph, not read from a declaration.
    traced = steps(keras.Model(model.inputs, model.outputs))
    assert [(s.conv, s.rectified, s.pooled) for s in declared] == [
        (s.conv, s.rectified, s.pooled) for s in traced
    ]
    # Each block holds as many steps as the spec gives it convolutions.
    for number, block in enumerate(model.spec.blocks, start=1):
        per_conv = 2 if block.conv_type == "depthwise_separable" else 1
        assert sum(s.block == number for s in declared) == block.convs * per_conv
