"""The model zoo: networks by name, and presets with trained weights.

>>> from kerascnn.zoo import list_models, create_model, model_info
>>> list_models("lenet5*")
['lenet5', 'lenet5_max']
>>> model = create_model("lenet5.mnist")               # trained on MNIST
>>> model = create_model("lenet5.mnist", num_classes=5)  # fresh head, to fine-tune
>>> model = create_model("mobilecnn_050", input_shape=(64, 64, 1), num_classes=2)
"""

from kerascnn.zoo.catalog import (
    ModelInfo,
    create_model,
    list_models,
    load_preset,
    model_info,
    register_preset,
    resolve_preset,
    spec_of,
)
from kerascnn.zoo.presets import Preset, PresetIntegrityError
from kerascnn.zoo.registry import ZooError, register_model

__all__ = [
    "ModelInfo",
    "Preset",
    "PresetIntegrityError",
    "ZooError",
    "create_model",
    "list_models",
    "load_preset",
    "model_info",
    "register_model",
    "register_preset",
    "resolve_preset",
    "spec_of",
]
