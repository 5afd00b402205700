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

from kerascnn import atomic_files
from kerascnn.builder import ConvNet
from kerascnn.errors import OutputExistsError
from kerascnn.training import evaluate, train
from kerascnn.training.averaging import recalibrate_batch_norm
from kerascnn.training.run import TEST_FILE
from kerascnn.zoo.recipe import PARTS, RECIPES_DIR, Recipe, Stage, list_recipes, load_recipe
from kerascnn.zoo.registry import ZooError

__all__ = [
    "RECIPES_DIR",
    "FinetuneResult",
    "Recipe",
    "Stage",
    "check_run_folder",
    "copy_of",
    "finetune",
    "fresh_copy",
    "list_recipes",
    "load_recipe",
    "recalibrate_batch_norm",
    "reset_fully_connected",
    "set_trainable",
]

logger = logging.getLogger("kerascnn.zoo")


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
        _reinitialize(model.get_layer(name), None if seed is None else seed + index)
    return names


# Keras' convolution and dense layers: each random variable, and the
# attribute holding the initializer it was drawn from.
_INITIALIZED = (
    ("kernel", "kernel_initializer"),
    ("kernel", "depthwise_initializer"),
    ("bias", "bias_initializer"),
)


def _reinitialize(layer: keras.layers.Layer, seed: int | None) -> None:
    """Draws the layer's kernel and bias again from its own initializers
    (seeded, without touching Keras' global random state)."""
    for variable_name, initializer_name in _INITIALIZED:
        variable = getattr(layer, variable_name, None)
        initializer = getattr(layer, initializer_name, None)
        if variable is None or initializer is None:
            continue
        config = initializer.get_config()
        if "seed" in config and seed is not None:
            config["seed"] = seed
        fresh = type(initializer).from_config(config)
        variable.assign(fresh(variable.shape, dtype=variable.dtype))


def fresh_copy(model: ConvNet, seed: int | None = None) -> ConvNet:
    """The same network with the same class names, with fresh weights
    everywhere: what training from scratch starts from. Its provenance is
    empty (trained from its spec), since no trained weight is kept. The
    model given is left as it is, and so is Keras' global random state.

    Example:
    >>> scratch = fresh_copy(create_model("minivgg_m.cifar10", class_names=names), seed=0)
    """
    model = _convnet(model, "fresh_copy")
    copy = ConvNet.from_config({**model.get_config(), "provenance": {}})
    for index, layer in enumerate(copy.layers):
        _reinitialize(layer, None if seed is None else seed + index)
    return copy


def copy_of(model: ConvNet) -> ConvNet:
    """A new `ConvNet` with the same config and weights (what `finetune`
    trains, so the caller's model is never changed)."""
    copy = ConvNet.from_config(_convnet(model, "copy_of").get_config())
    copy.set_weights(model.get_weights())
    return copy


def check_run_folder(run_dir) -> None:
    """Refuses a folder that already holds a fine-tuning run (its stage
    folders or `final.keras`): a fine-tuning run is never overwritten.

    Raises:
        OutputExistsError: naming the folder and what to do.
    """
    run_dir = Path(run_dir)
    if run_dir.is_dir() and any(run_dir.iterdir()):
        raise OutputExistsError(
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
        test_report: Its `EvaluationReport` on the data's test split (also
            written to `test_evaluation.json`), or None without one.
    """

    model: keras.Model
    model_path: Path
    stages: list
    test_report: object = None

    @property
    def wall_time_s(self) -> float:
        return sum(stage.wall_time_s for stage in self.stages)


def _model_for(source, data, data_config, seed):
    """The model to fine-tune and the data, each loaded as the other needs:
    the images at the model's input size, a preset with the data's class
    names. A model given (or loaded from a file) is copied, never trained
    in place."""
    from kerascnn.data import DataConfig, load_dataset
    from kerascnn.model_source import input_shape, is_spec_source, keras_file, load_keras_file
    from kerascnn.zoo.catalog import create_model, load_preset, spec_of

    model = None
    if isinstance(source, keras.Model):
        model = copy_of(_convnet(source, "finetune"))
    elif keras_file(source) is not None:
        model = copy_of(_convnet(load_keras_file(keras_file(source)), "finetune"))
    if isinstance(data, (str, Path)):
        shape = input_shape(model if model is not None else spec_of(str(source)))
        data_config = DataConfig.of(data_config)
        data = load_dataset(str(data), image_shape=shape, seed=seed or 0, **data_config.to_dict())
    if model is None:
        names = list(data.class_names)
        build = create_model if is_spec_source(source) else load_preset
        model = build(str(source), class_names=names)
    return model, data


def finetune(
    model,
    data,
    run_dir,
    recipe: Recipe | str = "two_stage",
    *,
    seed: int | None = None,
    class_weight: str | None = None,
    data_config=None,
    verbose="auto",
) -> FinetuneResult:
    """Fine-tunes a model on a data set with a recipe, then tests it: the
    whole `kerascnn finetune` job, in Python.

    Each recipe stage runs in its own sub-folder. A recipe with `"reset":
    "fc"` first gives the fully connected layers fresh weights
    (`reset_fully_connected`); one with `"reset": "all"` trains a fresh
    copy of the network instead (`fresh_copy`), the from-scratch baseline.
    The model takes the data's class names and records the recipe in its
    provenance. Each stage starts from where the last ended (its final
    weights, not its best checkpoint: with a few labelled images there is
    rarely a validation split worth choosing by). A stage that trains batch
    norm layers ends by re-estimating their statistics on the training
    images (`recalibrate_batch_norm`). The model after the last stage is
    saved as `final.keras`; where the data has a test split it is evaluated
    there (`test_evaluation.json`). The model given is never changed.

    Args:
        model: A preset name (`"lenet5.mnist"`), preset folder or URL, a
            zoo name (fresh weights), a `.keras` file or run folder, or a
            `ConvNet`. A preset loads with the data's class names (a fresh
            head where they differ from its own).
        data: An image folder or `tfds:NAME`, loaded at the model's input
            size with `data_config`; or an `ImageDataset`.
        run_dir: The run folder to create (`<stage>/` per stage, `final.keras`).
        recipe: A built-in recipe's name (`kerascnn.zoo.recipe.list_recipes`),
            a recipe JSON file, or a `Recipe`.
        seed: Makes the run reproducible: data order, fresh weights, ops.
        class_weight: None, or "balanced" (`TrainConfig.class_weight`).
        data_config: A `DataConfig` or its dict (batch size, augmentation,
            classes, ...), for a `data` given by name.
        verbose: Keras' progress display.

    Returns:
        A `FinetuneResult` (`.model`, `.model_path`, `.test_report`).

    Example:
    >>> result = finetune("minivgg_m.cifar10", "my_photos", "runs/ft", "two_stage", seed=0)
    >>> result.model.class_names, result.test_report.accuracy
    """
    recipe = (
        recipe
        if isinstance(recipe, Recipe)
        else load_recipe(recipe, seed=seed, class_weight=class_weight)
    )
    check_run_folder(run_dir)  # before any data or model loads
    if seed is not None:
        # Before the data: tf.data mixes the global seed into its shuffle order.
        keras.utils.set_random_seed(seed)
    model, data = _model_for(model, data, data_config, seed)
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
            train(
                model,
                data,
                run_dir / f"{number}_{stage.name}",
                stage.config,
                test=False,
                verbose=verbose,
            )
        )
        recalibrate_batch_norm(model, data.train)
    set_trainable(model, "all")
    # The model alone: the last stage's optimizer, built for the layers that
    # stage trained, would not match the model with every layer trainable.
    final = copy_of(model)
    atomic_files.save_model(final, run_dir / "final.keras")
    report = None
    if "test" in data.splits:
        report = evaluate(final, data, "test")
        atomic_files.write_json(run_dir / TEST_FILE, report.to_dict())
    return FinetuneResult(
        model=final, model_path=run_dir / "final.keras", stages=results, test_report=report
    )
