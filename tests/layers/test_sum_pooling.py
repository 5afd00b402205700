"""SumPooling1D/2D/3D against the NumPy oracle and Keras' average pooling."""

import inspect
import itertools
import re

import keras
import numpy as np
import pytest

from kerascnn.layers import SumPooling1D, SumPooling2D, SumPooling3D

from .reference import sum_pool

LAYERS = {1: SumPooling1D, 2: SumPooling2D, 3: SumPooling3D}
AVERAGE_LAYERS = {
    1: keras.layers.AveragePooling1D,
    2: keras.layers.AveragePooling2D,
    3: keras.layers.AveragePooling3D,
}
SPATIAL = {1: (11,), 2: (7, 8), 3: (5, 6, 7)}
POOL_SIZES = {1: [1, 2, 3, 4], 2: [1, 2, 3, (2, 3)], 3: [2, 3, (1, 2, 3)]}
STRIDES = [None, 1, 2, 3]

GRID = [
    (dims, pool, strides, padding, data_format)
    for dims in (1, 2, 3)
    for pool, strides, padding, data_format in itertools.product(
        POOL_SIZES[dims], STRIDES, ("valid", "same"), ("channels_last", "channels_first")
    )
]


def _input(dims, data_format, channels=3, seed=0):
    shape = (2, *SPATIAL[dims], channels)
    if data_format == "channels_first":
        shape = (2, channels, *SPATIAL[dims])
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _as_tuple(value, dims):
    return (value,) * dims if isinstance(value, int) else tuple(value)


@pytest.mark.parametrize(("dims", "pool", "strides", "padding", "data_format"), GRID)
def test_sum_pooling_matches_numpy_reference(dims, pool, strides, padding, data_format):
    x = _input(dims, data_format)
    layer = LAYERS[dims](pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    pool_t = _as_tuple(pool, dims)
    strides_t = pool_t if strides is None else _as_tuple(strides, dims)
    expected = sum_pool(x, pool_t, strides_t, padding, data_format)
    actual = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("dims", "pool", "strides", "padding", "data_format"), GRID)
def test_output_shape_follows_average_pooling_rules(dims, pool, strides, padding, data_format):
    x = _input(dims, data_format)
    kwargs = dict(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    ours = LAYERS[dims](**kwargs)
    theirs = AVERAGE_LAYERS[dims](**kwargs)
    assert ours.compute_output_shape(x.shape) == tuple(theirs.compute_output_shape(x.shape))


def test_same_padding_sums_only_in_bounds_values():
    ones = np.ones((1, 4, 4, 1), "float32")
    out = SumPooling2D(pool_size=3, strides=1, padding="same")(ones)
    # A 3x3 window centred on a corner covers 4 pixels, on an edge 6, inside 9.
    expected = np.array([[4, 6, 6, 4], [6, 9, 9, 6], [6, 9, 9, 6], [4, 6, 6, 4]])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out)[0, :, :, 0], expected)


def test_valid_sum_is_average_times_window_area():
    x = _input(2, "channels_last")
    ours = SumPooling2D(pool_size=(2, 3), strides=(1, 2))(x)
    average = keras.layers.AveragePooling2D(pool_size=(2, 3), strides=(1, 2))(x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(average) * 6, rtol=1e-5
    )


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_arguments_and_defaults_match_average_pooling(dims):
    def signature(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.default) for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]

    assert signature(LAYERS[dims]) == signature(AVERAGE_LAYERS[dims])
    ours = LAYERS[dims](pool_size=2).get_config()
    theirs = AVERAGE_LAYERS[dims](pool_size=2).get_config()
    for key in ("pool_size", "strides", "padding", "data_format"):
        assert tuple(np.ravel(ours[key])) == tuple(np.ravel(theirs[key])), key


def test_unknown_spatial_dims_are_pooled_at_run_time():
    inputs = keras.Input((None, None, 2))
    outputs = SumPooling2D(3, 2, padding="same")(inputs)
    assert tuple(outputs.shape) == (None, None, None, 2)
    x = _input(2, "channels_last", channels=2)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.Model(inputs, outputs)(x)),
        sum_pool(x, (3, 3), (2, 2), "same"),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pool_size": 0}, "Received: pool_size=0"),
        ({"pool_size": (2, 2, 2)}, "Received: pool_size=(2, 2, 2)"),
        ({"pool_size": 2.5}, "Received: pool_size=2.5"),
        ({"strides": 0}, "Received: strides=0"),
        ({"strides": -1}, "Received: strides=-1"),
        ({"padding": "full"}, "Received: padding='full'"),
        ({"data_format": "nhwc"}, "Received: data_format='nhwc'"),
    ],
)
def test_bad_arguments_are_refused_with_the_value(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SumPooling2D(**{"pool_size": 2, **kwargs})


def test_window_larger_than_input_with_valid_padding_names_the_fix():
    with pytest.raises(ValueError, match="use padding='same' or a smaller pool_size"):
        SumPooling2D(pool_size=5)(keras.Input((4, 4, 1)))


def test_unknown_channel_dimension_is_refused():
    with pytest.raises(ValueError, match="known channel dimension"):
        SumPooling2D(2)(keras.Input((4, 4, None)))
