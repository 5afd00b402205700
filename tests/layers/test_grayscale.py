"""RGBToGrayscale agrees with Keras' image op."""

import keras
import numpy as np
import pytest

from kerascnn.layers import RGBToGrayscale


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_matches_keras_rgb_to_grayscale(data_format):
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 5, 6, 3)).astype("float32")
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    expected = keras.ops.image.rgb_to_grayscale(x, data_format=data_format)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(RGBToGrayscale(data_format=data_format)(x)),
        keras.ops.convert_to_numpy(expected),
        rtol=1e-4,
    )


def test_refuses_input_without_three_channels():
    with pytest.raises(ValueError):
        RGBToGrayscale()(keras.Input((8, 8, 1)))
