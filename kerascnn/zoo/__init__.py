"""The model zoo: networks by name, and presets with trained weights.

>>> from kerascnn.zoo import list_models, create_model, model_info
>>> list_models("lenet5*")
['lenet5', 'lenet5_max']
>>> model = create_model("lenet5.mnist")               # trained on MNIST
>>> model = create_model("lenet5.mnist", num_classes=5)  # fresh head, to fine-tune
>>> model = create_model("mobilecnn_050", input_shape=(64, 64, 1), num_classes=2)
>>> result = finetune("lenet5.mnist", "my_digits", "runs/ft", "two_stage", seed=0)

Names import lazily: listing models loads no TensorFlow.
"""

from kerascnn._lazy import lazy_getattr

_EXPORTS = {
    "ModelInfo": "kerascnn.zoo.catalog",
    "create_model": "kerascnn.zoo.catalog",
    "list_models": "kerascnn.zoo.catalog",
    "load_preset": "kerascnn.zoo.catalog",
    "model_info": "kerascnn.zoo.catalog",
    "register_preset": "kerascnn.zoo.catalog",
    "resolve_preset": "kerascnn.zoo.catalog",
    "spec_of": "kerascnn.zoo.catalog",
    "Preset": "kerascnn.zoo.presets",
    "PresetIntegrityError": "kerascnn.zoo.presets",
    "ZooError": "kerascnn.zoo.registry",
    "DistillConfig": "kerascnn.training.config",
    "DistillResult": "kerascnn.zoo.distillation",
    "distill": "kerascnn.zoo.distillation",
    "FinetuneResult": "kerascnn.zoo.finetuning",
    "finetune": "kerascnn.zoo.finetuning",
    "fresh_copy": "kerascnn.zoo.finetuning",
    "list_recipes": "kerascnn.zoo.recipe",
    "load_recipe": "kerascnn.zoo.recipe",
    "register_model": "kerascnn.zoo.registry",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
