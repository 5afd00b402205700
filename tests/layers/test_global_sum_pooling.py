"""GlobalSumPooling1D/2D/3D against NumPy sums."""

import keras
import numpy as np
import pytest

from kerascnn.layers import GlobalSumPooling1D, GlobalSumPooling2D, GlobalSumPooling3D

LAYERS = {1: GlobalSumPooling1D, 2: GlobalSumPooling2D, 3: GlobalSumPooling3D}
AVERAGE_LAYERS = {
    1: keras.layers.GlobalAveragePooling1D,
    2: keras.layers.GlobalAveragePooling2D,
    3: keras.layers.GlobalAveragePooling3D,
}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_sum_matches_numpy(dims, data_format, keepdims):
    shape = (2, *range(3, 3 + dims), 4)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
        axes = tuple(range(2, 2 + dims))
    else:
        axes = tuple(range(1, 1 + dims))
    layer = LAYERS[dims](data_format=data_format, keepdims=keepdims)
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(out, x.sum(axis=axes, keepdims=keepdims), rtol=1e-5, atol=1e-5)
    average = AVERAGE_LAYERS[dims](data_format=data_format, keepdims=keepdims)
    assert out.shape == tuple(average.compute_output_shape(x.shape))


def test_masked_steps_are_left_out_of_the_sum():
    x = np.arange(12, dtype="float32").reshape(1, 4, 3)
    mask = np.array([[True, False, True, False]])
    out = GlobalSumPooling1D()(x, mask=mask)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), x[:, [0, 2]].sum(axis=1))


def test_keepdims_must_be_boolean():
    with pytest.raises(ValueError, match="Received: keepdims='yes'"):
        GlobalSumPooling2D(keepdims="yes")
