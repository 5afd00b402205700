"""RectifiedFeatureMap computes exactly a ReLU and summarises its output."""

import keras
import numpy as np
import pytest

from kerascnn.layers import RectifiedFeatureMap


def test_predictions_are_identical_to_ops_relu():
    x = np.random.default_rng(0).normal(size=(4, 9, 9, 8)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(RectifiedFeatureMap()(x)),
        keras.ops.convert_to_numpy(keras.ops.relu(x)),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_value": 6.0},
        {"negative_slope": 0.2},
        {"threshold": 0.3},
        {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.5},
    ],
)
def test_arguments_behave_as_keras_relu(kwargs):
    x = np.linspace(-8, 8, 97, dtype="float32").reshape(1, 97)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(RectifiedFeatureMap(**kwargs)(x)),
        keras.ops.convert_to_numpy(keras.layers.ReLU(**kwargs)(x)),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_value": -1.0}, "Received: max_value=-1.0"),
        ({"negative_slope": -0.1}, "Received: negative_slope=-0.1"),
        ({"threshold": -2.0}, "Received: threshold=-2.0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RectifiedFeatureMap(**kwargs)


def test_statistics_match_numpy():
    rng = np.random.default_rng(3)
    fmap = np.maximum(rng.normal(size=(3, 5, 5, 6)), 0).astype("float32")
    fmap[..., 2] = 0.0  # a dead channel
    stats = {
        k: float(keras.ops.convert_to_numpy(v))
        for k, v in RectifiedFeatureMap.statistics(fmap).items()
    }
    assert stats["sparsity"] == pytest.approx(np.mean(fmap == 0))
    assert stats["mean_activation"] == pytest.approx(fmap.mean(), rel=1e-5)
    assert stats["max_activation"] == pytest.approx(fmap.max())
    assert stats["dead_channel_fraction"] == pytest.approx(1 / 6)


def test_statistics_follow_the_channel_axis():
    fmap = np.ones((2, 4, 3, 3), "float32")
    fmap[:, 1] = 0.0  # channels_first: channel 1 of 4 is dead
    stats = RectifiedFeatureMap.statistics(fmap, channel_axis=1)
    assert float(keras.ops.convert_to_numpy(stats["dead_channel_fraction"])) == pytest.approx(0.25)


def test_is_a_keras_relu():
    assert isinstance(RectifiedFeatureMap(), keras.layers.ReLU)
