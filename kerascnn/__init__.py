"""kerascnn: convolutional networks you can understand, train and ship.

The package imports lazily (PEP 562), so `kerascnn --help` and
`kerascnn models` answer without loading TensorFlow. Its Keras classes
(layers, `ConvNet`, the loss) are registered with Keras as soon as Keras is
loaded, whichever comes first, so `.keras` files that use them load after
a plain `import kerascnn`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
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
    "FeatureMapStatistics": "kerascnn.callbacks",
    "SparseBinaryCrossentropy": "kerascnn.losses",
    "KerasCNNError": "kerascnn.errors",
    "UsageError": "kerascnn.errors",
}
# What Keras must know to deserialize kerascnn models.
_KERAS_CLASSES = ("kerascnn.layers", "kerascnn.builder", "kerascnn.losses")

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
]
_exported = lazy_getattr(__name__, _EXPORTS)


def __getattr__(name):
    if name == "layers":
        return importlib.import_module("kerascnn.layers")
    return _exported(name)


def _register_keras_classes() -> None:
    for module in _KERAS_CLASSES:
        importlib.import_module(module)


class _AfterKerasLoads(importlib.abc.MetaPathFinder):
    """Registers kerascnn's Keras classes right after `keras` is imported.

    NOTE: `importlib.util.find_spec("keras")` alone (TensorFlow's compat
    module calls it while TFDS prepares a data set) must not use it up: the
    finder stays until a `keras` it found is actually executed.
    """

    def __init__(self):
        self._finding = False

    def find_spec(self, name, path=None, target=None):
        if name != "keras" or self._finding:
            return None
        self._finding = True  # the lookup below walks sys.meta_path again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding = False
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            from kerascnn._keras_import import matplotlib_hidden

            with matplotlib_hidden():
                exec_module(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _register_keras_classes()

        spec.loader.exec_module = exec_then_register
        return spec


if "keras" in sys.modules:
    _register_keras_classes()
elif not any(isinstance(finder, _AfterKerasLoads) for finder in sys.meta_path):
    sys.meta_path.insert(0, _AfterKerasLoads())
