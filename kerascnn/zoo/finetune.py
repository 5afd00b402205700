"""Fine-tuning: runs a recipe (`kerascnn.zoo.recipe`) on a model, stage by stage.

The built-in recipes live in `kerascnn/zoo/recipes/`: `linear_probe`,
`full`, `two_stage`, `conv_transfer`, and `scratch` (the from-scratch
baseline fine-tuning is compared with).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from kerascnn import atomic_files
from kerascnn.builder import ConvNet
from kerascnn.training import train
from kerascnn.zoo.recipe import PARTS, RECIPES_DIR, Recipe, Stage, list_recipes, load_recipe
from kerascnn.zoo.registry import ZooError

__all__ = [
    "RECIPES_DIR",
    "FinetuneResult",
    "Recipe",
    "Stage",
    "check_run_folder",
    "finetune",
    "fresh_copy",
    "list_recipes",
    "load_recipe",
    "recalibrate_batch_norm",
    "reset_fully_connected",
    "set_trainable",
]

logger = logging.getLogger("kerascnn.zoo")


def recalibrate_batch_norm(model: keras.Model, dataset, max_images: int = 2048) -> None:
    """Sets the moving statistics of trainable batch norm layers to those of
    the training images ("precise BN", Wu and Johnson 2021).

    With a few labelled images a run has a few hundred steps, too few for
    the moving averages (momentum 0.99) to catch up with weights that moved
    a lot: such a model can fit its training images and still be near
    chance in inference mode. One pass over up to `max_images` training
    images, with the momentum at zero, gives every layer the statistics of
    the data it was trained on. Frozen layers keep theirs.
    """
    layers = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
    ]
    if not layers:
        return
    batches, count = [], 0
    for images, _ in dataset:
        batches.append(keras.ops.convert_to_numpy(images))
        count += len(batches[-1])
        if count >= max_images:
            break
    images = np.concatenate(batches)[:max_images]
    momenta = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        model(images, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def _convnet(model, what: str) -> ConvNet:
    if not isinstance(model, ConvNet):
        raise ZooError(
            f"{what} needs a kerascnn ConvNet, which declares its classifier and fully "
            f"connected layers. Received: {type(model).__name__}; build it with "
            "kerascnn.zoo.create_model or kerascnn.build_model."
        )
    return model


def set_trainable(model: ConvNet, part: str) -> None:
    """Lets only `part` learn: "head" (the classifier), "fc" (every fully
    connected layer, the classifier included) or "all"; the layers are
    those the model declares in `model.roles`."""
    if part not in PARTS:
        raise ZooError(f"`part` must be 'head', 'fc' or 'all'. Received: part={part!r}")
    roles = _convnet(model, "set_trainable").roles
    learning = {
        "head": {roles.classifier},
        "fc": set(roles.fully_connected),
        "all": {layer.name for layer in model.layers},
    }[part]
    model.trainable = True
    # Each layer explicitly: a functional model's own flag does not reset its layers'.
    for layer in model.layers:
        layer.trainable = layer.name in learning


def reset_fully_connected(model: ConvNet, seed: int | None = None) -> list[str]:
    """Gives every fully connected layer fresh weights from its own
    initializers, as a new model of the same spec would have; returns
    their names.

    A preset's fully connected layers combine its features into its own
    classes; for very different classes they can be a worse start than
    random ones, while its convolutions still help.

    Args:
        model: A `ConvNet`, typically a preset; its `roles` name the layers.
        seed: Makes the fresh weights reproducible.

    Example:
    >>> model = create_model("seed_cnn_base.fashion_mnist", num_classes=10)
    >>> reset_fully_connected(model, seed=0)  # ['fc1', 'predictions']
    """
    names = list(_convnet(model, "reset_fully_connected").roles.fully_connected)
    for index, name in enumerate(names):
        layer = model.get_layer(name)
        for variable, initializer in (
            (layer.kernel, layer.kernel_initializer),
            (layer.bias, layer.bias_initializer),
        ):
            if variable is None:
                continue
            config = initializer.get_config()
            if "seed" in config and seed is not None:
                config["seed"] = seed + index
            fresh = type(initializer).from_config(config)
            variable.assign(fresh(variable.shape, dtype=variable.dtype))
    return names


def fresh_copy(model: ConvNet, seed: int | None = None) -> ConvNet:
    """The same network with the same class names, with fresh weights
    everywhere: what training from scratch starts from. Its provenance is
    empty (trained from its spec), since no trained weight is kept.

    Example:
    >>> scratch = fresh_copy(create_model("minivgg_m.cifar10", class_names=names), seed=0)
    """
    model = _convnet(model, "fresh_copy")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    config = {**model.get_config(), "provenance": {}}
    return ConvNet.from_config(config)


def check_run_folder(run_dir) -> None:
    """Refuses a folder that already holds a fine-tuning run (its stage
    folders or `final.keras`): a fine-tuning run is never overwritten.

    Raises:
        FileExistsError: naming the folder and what to do.
    """
    run_dir = Path(run_dir)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise FileExistsError(
            f"'{run_dir}' is not empty; a fine-tuning run writes a new folder (its stages and "
            "final.keras). Choose another --out, or move that folder away first."
        )


@dataclass(frozen=True)
class FinetuneResult:
    """What `finetune` produced.

    Attributes:
        model: The fine-tuned model (as at the end of the last stage).
        model_path: Where it is saved (`final.keras` in the run folder).
        stages: The `TrainResult` of each stage.
    """

    model: keras.Model
    model_path: Path
    stages: list

    @property
    def wall_time_s(self) -> float:
        return sum(stage.wall_time_s for stage in self.stages)


def finetune(
    model: ConvNet, data, run_dir, recipe: Recipe | str, *, seed=None, verbose="auto"
) -> FinetuneResult:
    """Runs a recipe's stages on `model`, each in its own sub-folder.

    A recipe with `"reset": "fc"` first gives the fully connected layers
    fresh weights (`reset_fully_connected`); one with `"reset": "all"`
    trains a fresh copy of the network instead (`fresh_copy`), the
    from-scratch baseline. The model takes the data's class names and
    records the recipe in its provenance. Each stage starts from where
    the last ended (its final weights, not its best checkpoint: with a few
    labelled images there is rarely a validation split worth choosing by).
    A stage that trains batch norm layers ends by re-estimating their
    statistics on the training images (`recalibrate_batch_norm`). The model
    after the last stage is saved as `final.keras`.

    Args:
        model: A `ConvNet`, typically
            `create_model("preset.tag", class_names=data.class_names)`.
        data: An `ImageDataset` with the new classes.
        run_dir: The run folder (`<stage>/` per stage, `final.keras`).
        recipe: A `Recipe` or the name of a built-in one.
        seed: Seed for a reproducible run (used when `recipe` is a name).
        verbose: Keras' progress display.

    Example:
    >>> data = load_dataset("CIFAR-10-images", classes="cat,dog,horse", per_class=50)
    >>> model = create_model("minivgg_m.cifar10", class_names=data.class_names)
    >>> result = finetune(model, data, "runs/ft", "linear_probe")
    """
    recipe = load_recipe(recipe, seed=seed) if isinstance(recipe, str) else recipe
    check_run_folder(run_dir)
    model = _convnet(model, "finetune")
    if data.class_names and model.output_shape[-1] != len(data.class_names):
        raise ZooError(
            f"The model predicts {model.output_shape[-1]} classes but the data has "
            f"{len(data.class_names)}; build it with class_names={list(data.class_names)}."
        )
    seed = recipe.stages[0].config.seed
    if recipe.reset == "all":
        model = fresh_copy(model, seed=seed)
        logger.info("%s: fresh weights everywhere", recipe.name)
    elif recipe.reset == "fc":
        names = reset_fully_connected(model, seed=seed)
        logger.info("%s: fresh weights for %s", recipe.name, ", ".join(names))
    model.update_metadata(
        class_names=data.class_names or None,
        provenance={**model.provenance, "recipe": recipe.name},
    )
    run_dir = Path(run_dir)
    results = []
    for number, stage in enumerate(recipe.stages, start=1):
        set_trainable(model, stage.train)
        results.append(
            train(model, data, run_dir / f"{number}_{stage.name}", stage.config, verbose=verbose)
        )
        recalibrate_batch_norm(model, data.train)
    set_trainable(model, "all")
    # The model alone: the last stage's optimizer, built for the layers that
    # stage trained, would not match the model with every layer trainable.
    final = ConvNet.from_config(model.get_config())
    final.set_weights(model.get_weights())
    atomic_files.save_model(final, run_dir / "final.keras")
    return FinetuneResult(model=model, model_path=run_dir / "final.keras", stages=results)
