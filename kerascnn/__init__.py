"""kerascnn: convolutional networks you can understand, train and ship.

Importing the package registers its Keras layers (so `.keras` files that use
them load) and stays light: exporters, data loaders and plotting import
their heavy dependencies only when they run.
"""

from kerascnn import layers
from kerascnn.builder import ConvNet, build_model
from kerascnn.callbacks import FeatureMapStatistics
from kerascnn.describe import ModelDescription, describe
from kerascnn.spec import ConvBlockSpec, ConvNetSpec, HeadSpec, InputSpec, SpecError

__version__ = "0.1.0"

__all__ = [
    "ConvBlockSpec",
    "ConvNet",
    "ConvNetSpec",
    "FeatureMapStatistics",
    "HeadSpec",
    "InputSpec",
    "ModelDescription",
    "SpecError",
    "build_model",
    "describe",
    "layers",
]
