"""RectifiedFeatureMap summarises its output (its values are Keras' own ReLU's)."""

import keras
import numpy as np
import pytest

from kerascnn.layers import RectifiedFeatureMap


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
