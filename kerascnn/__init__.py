"""kerascnn: convolutional networks you can understand, train and ship.

Importing the package registers its Keras layers (so `.keras` files that use
them load) and stays light: exporters, data loaders and plotting import
their heavy dependencies only when they run.
"""

from kerascnn._keras_import import import_keras_without_matplotlib

import_keras_without_matplotlib()

from kerascnn import layers  # noqa: E402
from kerascnn.builder import ConvNet, build_model  # noqa: E402
from kerascnn.callbacks import FeatureMapStatistics  # noqa: E402
from kerascnn.describe import ModelDescription, describe  # noqa: E402
from kerascnn.losses import SparseBinaryCrossentropy  # noqa: E402
from kerascnn.spec import ConvBlockSpec, ConvNetSpec, HeadSpec, InputSpec, SpecError  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "ConvBlockSpec",
    "ConvNet",
    "ConvNetSpec",
    "FeatureMapStatistics",
    "HeadSpec",
    "InputSpec",
    "ModelDescription",
    "SparseBinaryCrossentropy",
    "SpecError",
    "build_model",
    "describe",
    "layers",
]
