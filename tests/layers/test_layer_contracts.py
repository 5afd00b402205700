"""Every kerascnn layer meets the same Keras layer contract."""

import pytest

from kerascnn.layers import (
    BatchNormalization,
    Flatten,
    GlobalSumPooling1D,
    GlobalSumPooling2D,
    GlobalSumPooling3D,
    RectifiedFeatureMap,
    RGBToGrayscale,
    SumPooling1D,
    SumPooling2D,
    SumPooling3D,
)

from .contract import check_layer_contract

CASES = [
    (SumPooling1D, {"pool_size": 2}, (2, 9, 3)),
    (SumPooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3)),
    (SumPooling1D, {"pool_size": 2, "data_format": "channels_first"}, (2, 3, 8)),
    (SumPooling2D, {"pool_size": 2}, (2, 6, 7, 3)),
    (SumPooling2D, {"pool_size": (2, 3), "strides": (1, 2)}, (2, 6, 7, 3)),
    (SumPooling2D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 6, 7, 3)),
    (
        SumPooling2D,
        {"pool_size": 2, "padding": "same", "data_format": "channels_first"},
        (2, 3, 5, 7),
    ),
    (SumPooling3D, {"pool_size": 2}, (2, 4, 5, 6, 3)),
    (SumPooling3D, {"pool_size": (2, 3, 2), "padding": "same"}, (2, 4, 5, 6, 3)),
    (SumPooling3D, {"pool_size": 2, "data_format": "channels_first"}, (2, 3, 4, 4, 4)),
    (GlobalSumPooling1D, {}, (2, 7, 3)),
    (GlobalSumPooling1D, {"keepdims": True, "data_format": "channels_first"}, (2, 3, 7)),
    (GlobalSumPooling2D, {}, (2, 5, 6, 3)),
    (GlobalSumPooling2D, {"keepdims": True}, (2, 5, 6, 3)),
    (GlobalSumPooling3D, {"data_format": "channels_first"}, (2, 3, 4, 5, 6)),
    (RectifiedFeatureMap, {}, (2, 6, 6, 4)),
    (RectifiedFeatureMap, {"max_value": 6.0, "negative_slope": 0.1, "threshold": 0.5}, (2, 5, 3)),
    (Flatten, {}, (2, 5, 6, 3)),
    (Flatten, {"data_format": "channels_first"}, (2, 3, 5, 6)),
    (RGBToGrayscale, {}, (2, 5, 6, 3)),
    (RGBToGrayscale, {"data_format": "channels_first"}, (2, 3, 5, 6)),
    (BatchNormalization, {}, (4, 5, 6, 3)),
    (BatchNormalization, {"center": False, "momentum": 0.5}, (4, 3, 5, 6)),
    (BatchNormalization, {"scale": False}, (4, 7)),
]


@pytest.mark.parametrize(
    ("layer_cls", "init_kwargs", "input_shape"),
    CASES,
    ids=[f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(CASES)],
)
def test_layer_meets_keras_contract(layer_cls, init_kwargs, input_shape, tmp_path):
    check_layer_contract(layer_cls, init_kwargs, input_shape, tmp_path)
