"""Custom Keras layers: sum pooling, rectified feature maps, preprocessing, flatten,
batch norm with a fused training kernel."""

from kerascnn.layers.batch_normalization import BatchNormalization
from kerascnn.layers.flatten import Flatten
from kerascnn.layers.global_sum_pooling import (
    GlobalSumPooling1D,
    GlobalSumPooling2D,
    GlobalSumPooling3D,
)
from kerascnn.layers.grayscale import RGBToGrayscale
from kerascnn.layers.rectified_feature_map import (
    RectifiedFeatureMap,
    is_rectified_map,
    rectified_map_layers,
)
from kerascnn.layers.sum_pooling import SumPooling1D, SumPooling2D, SumPooling3D

__all__ = [
    "BatchNormalization",
    "Flatten",
    "GlobalSumPooling1D",
    "GlobalSumPooling2D",
    "GlobalSumPooling3D",
    "RGBToGrayscale",
    "RectifiedFeatureMap",
    "SumPooling1D",
    "SumPooling2D",
    "SumPooling3D",
    "is_rectified_map",
    "rectified_map_layers",
]
