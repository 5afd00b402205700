"""Flatten: Keras' function, with the batch left to one reshape."""

import keras
import numpy as np
import pytest

from kerascnn.layers import Flatten


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_equals_keras_flatten(data_format):
    x = np.random.default_rng(0).normal(size=(3, 4, 5, 2)).astype("float32")
    ours = keras.ops.convert_to_numpy(Flatten(data_format=data_format)(x))
    theirs = keras.ops.convert_to_numpy(keras.layers.Flatten(data_format=data_format)(x))
    np.testing.assert_array_equal(ours, theirs)


def test_flatten_keeps_the_batch_free_in_a_functional_model():
    inputs = keras.Input((4, 5, 2))
    model = keras.Model(inputs, Flatten()(inputs))
    assert model.output_shape == (None, 40)
    for batch in (1, 7):
        x = np.arange(batch * 40, dtype="float32").reshape(batch, 4, 5, 2)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)), x.reshape(batch, 40))
