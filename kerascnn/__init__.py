"""kerascnn: convolutional networks you can understand, train and ship.

The package imports lazily (PEP 562), so `kerascnn --help` and
`kerascnn models` answer without loading TensorFlow. Its Keras classes
(layers, `ConvNet`, the loss) register with Keras, as keras-hub's do, when
the modules defining them are imported: by anything of kerascnn that builds
or loads a model (`kerascnn.load`, `kerascnn.zoo.create_model`, ...), or at
`import kerascnn` when Keras is already imported. To load a `.keras` file
with Keras alone after importing Keras, `import kerascnn` first or use
`kerascnn.load(path)`.
"""

from __future__ import annotations

import importlib
import sys

from kerascnn._lazy import lazy_getattr

# NOTE: imported now, not lazily: the function `describe` shares its
# module's name, and importing the module later would bind the module over
# it. The module loads no Keras.
from kerascnn.describe import ModelDescription, describe

__version__ = "0.1.0"

# Public name -> the module that defines it; imported on first access.
_EXPORTS = {
    "ConvBlockSpec": "kerascnn.spec",
    "ConvNetSpec": "kerascnn.spec",
    "HeadSpec": "kerascnn.spec",
    "InputSpec": "kerascnn.spec",
    "SpecError": "kerascnn.spec",
    "ConvNet": "kerascnn.builder",
    "build_model": "kerascnn.builder",
    "load": "kerascnn.model_source",
    "FeatureMapStatistics": "kerascnn.callbacks",
    "SparseBinaryCrossentropy": "kerascnn.losses",
    "KerasCNNError": "kerascnn.errors",
    "UsageError": "kerascnn.errors",
}
# What Keras must know to deserialize kerascnn models.
_KERAS_CLASSES = ("kerascnn.layers", "kerascnn.builder", "kerascnn.losses", "kerascnn.optimizers")

__all__ = [
    "ConvBlockSpec",
    "ConvNet",
    "ConvNetSpec",
    "FeatureMapStatistics",
    "HeadSpec",
    "InputSpec",
    "KerasCNNError",
    "ModelDescription",
    "SparseBinaryCrossentropy",
    "SpecError",
    "UsageError",
    "build_model",
    "describe",
    "layers",
    "load",
]
_exported = lazy_getattr(__name__, _EXPORTS)


def __getattr__(name):
    if name == "layers":
        return importlib.import_module("kerascnn.layers")
    return _exported(name)


def _register_keras_classes() -> None:
    for module in _KERAS_CLASSES:
        importlib.import_module(module)


# NOTE: registering costs nothing heavy once Keras is loaded; before that,
# the modules that define the classes register them when they are imported.
if "keras" in sys.modules:
    _register_keras_classes()
