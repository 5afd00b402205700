"""See inside the network: feature maps, filters, statistics, pictures.

Arrays (`feature_maps`, `filters`, `map_statistics`, `grad_cam`) need only
Keras; the pictures (`kerascnn.inspection.plots`) import matplotlib when
drawn, with its headless backend.

Example:
>>> from kerascnn.inspection import feature_maps, inspect_image
>>> maps = feature_maps(model, images)          # {"block1_conv1": ..., "block1_relu1": ...}
>>> inspect_image(model, images[0], "inspect")  # PNGs and index.html
"""

from kerascnn.inspection.gradcam import grad_cam
from kerascnn.inspection.maps import Step, feature_maps, filters, map_layer_names, steps
from kerascnn.inspection.page import inspect_image
from kerascnn.inspection.plots import (
    plot_feature_maps,
    plot_filters,
    plot_grad_cam,
    plot_steps,
)
from kerascnn.inspection.statistics import MapStatistics, map_statistics

__all__ = [
    "MapStatistics",
    "Step",
    "feature_maps",
    "filters",
    "grad_cam",
    "inspect_image",
    "map_layer_names",
    "map_statistics",
    "plot_feature_maps",
    "plot_filters",
    "plot_grad_cam",
    "plot_steps",
    "steps",
]
