"""Distillation: a large fine-tuned teacher teaches a small student on the
user's labelled images and their unlabelled ones (Hinton et al. 2015).

Built on `keras.distillation`: its `Distiller` trains the student and its
`LogitsDistillation` is the temperature-softened KL divergence to the
teacher. Three things it lacks for this journey are added here:

- its teacher and student must take the same input
  (`Distiller._validate_input_compatibility`), while kerascnn models
  declare their own sizes and channels (a 32x32 RGB teacher, a 28x28 gray
  student): each model gets its own view of every (augmented) image, and
  the Distiller sees two models of the same two-view input;
- its student loss ignores `sample_weight` ("currently unused"), so a batch
  that mixes labelled and unlabelled images needs a cross-entropy that
  counts only the labelled ones (label -1: unlabelled), given as the loss;
- `LogitsDistillation` takes logits; kerascnn heads end in a softmax, whose
  log is the logits up to a constant per image, which softmax ignores.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import keras

from kerascnn import atomic_files
from kerascnn.builder import ConvNet, class_names
from kerascnn.errors import OutputExistsError, TrainingDiverged, UsageError
from kerascnn.training.checkpointing import HISTORY_JSON, EpochClock
from kerascnn.training.config import DistillConfig, TrainConfig
from kerascnn.zoo.publish import DISTILLER_FILE
from kerascnn.zoo.recipe import DistillRecipe, load_distill_recipe

logger = logging.getLogger("kerascnn.zoo")


@dataclass(frozen=True)
class DistillResult:
    """What `distill` produced.

    Attributes:
        model: The distilled student.
        model_path: Where it is saved (`final.keras` in the run folder).
        history: One dict of logs per epoch.
        wall_time_s: Seconds spent training.
        test_report: The student on the data's test split, or None.
    """

    model: keras.Model
    model_path: Path
    history: list
    wall_time_s: float
    test_report: object = None


def _log_probabilities(model: keras.Model, image: keras.KerasTensor) -> keras.KerasTensor:
    """The model's log-probabilities: logits up to a constant per image."""
    return keras.ops.log(keras.ops.maximum(model(image), 1e-12))


def _views(teacher: keras.Model, student: keras.Model):
    """The two models over one two-view input {"teacher": ..., "student": ...}."""
    from kerascnn.model_source import input_shape

    inputs = {
        role: keras.Input(input_shape(model), name=role)
        for role, model in (("teacher", teacher), ("student", student))
    }
    teacher_view = keras.Model(inputs, _log_probabilities(teacher, inputs["teacher"]))
    student_view = keras.Model(inputs, _log_probabilities(student, inputs["student"]))
    return teacher_view, student_view


def _view_batches(dataset, teacher_shape, student_shape):
    """Batches of one (augmented) image each model sees at its own size and
    channels: the same picture, as each model's preprocessing declares."""
    import tensorflow as tf

    def view(images, shape):
        height, width, channels = shape
        if tuple(images.shape[1:3]) != (height, width):
            images = tf.image.resize(images, (height, width))
        if images.shape[-1] == 3 and channels == 1:
            images = tf.image.rgb_to_grayscale(images)
        elif images.shape[-1] == 1 and channels == 3:
            images = tf.image.grayscale_to_rgb(images)
        return images

    return dataset.map(
        lambda images, labels: (
            {"teacher": view(images, teacher_shape), "student": view(images, student_shape)},
            labels,
        ),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def labelled_crossentropy(labels, log_probabilities):
    """Mean cross-entropy over the labelled images of a batch (label >= 0);
    unlabelled ones (-1) count for nothing, and a batch without any gives 0."""
    labels = keras.ops.reshape(labels, (-1,))
    labelled = keras.ops.cast(labels >= 0, "float32")
    picked = keras.ops.take_along_axis(
        log_probabilities, keras.ops.expand_dims(keras.ops.maximum(labels, 0), -1), axis=-1
    )[:, 0]
    total = -keras.ops.sum(labelled * keras.ops.cast(picked, "float32"))
    return total / keras.ops.maximum(keras.ops.sum(labelled), 1.0)


def _source(model: keras.Model) -> str:
    """What a model came from: a `ConvNet`'s preset (else its name)."""
    return model.source if isinstance(model, ConvNet) else model.name


def _carrier_shape(teacher_shape, student_shape) -> tuple[int, int, int]:
    """The shape images are loaded at: the larger size, RGB if either is."""
    height = max(teacher_shape[0], student_shape[0])
    width = max(teacher_shape[1], student_shape[1])
    return height, width, max(teacher_shape[2], student_shape[2])


def _student(source, class_names):
    from kerascnn.model_source import is_spec_source, keras_file, load_keras_file
    from kerascnn.zoo.catalog import create_model, load_preset
    from kerascnn.zoo.finetuning import copy_of

    if isinstance(source, ConvNet):
        model = copy_of(source)
    elif keras_file(source) is not None:
        model = copy_of(load_keras_file(keras_file(source)))
    else:
        build = create_model if is_spec_source(source) else load_preset
        return build(str(source), class_names=class_names)
    if list(model.class_names) != list(class_names):
        raise UsageError(
            f"The student predicts {', '.join(model.class_names)}, the teacher "
            f"{', '.join(class_names)}; give a zoo name or preset as the student (it gets the "
            "teacher's classes)."
        )
    return model


def distill(
    teacher,
    student,
    data,
    run_dir,
    config: TrainConfig | None = None,
    distill_config: DistillConfig | None = None,
    *,
    recipe="few_labels",
    seed: int | None = None,
    data_config=None,
    verbose="auto",
) -> DistillResult:
    """Trains a small student to answer as a large teacher does.

    The loss is `student_loss_weight` x the cross-entropy on the labelled
    images plus the rest x the temperature-softened KL divergence to the
    teacher on every image, the unlabelled ones included. Each model sees
    each image at its own input size and channels; augmentation (from
    `data_config`) happens once, before the views, so both see it alike.
    The student inherits the teacher's class names, and its provenance
    names the teacher and the sha256 of the teacher's weights. The run
    resumes after an interruption (Keras' `BackupAndRestore`) when called
    again with the same folder.

    Args:
        teacher: A Keras model or any source `kerascnn.load` takes (the
            user's fine-tuned run folder, a `.keras` file, a preset).
        student: A zoo name (fresh weights), a preset (its weights as the
            start, a fresh head for the teacher's classes), or a `ConvNet`
            already built for the teacher's classes.
        data: The labelled images: a source (a folder, `tfds:NAME`) or an
            `ImageDataset` (at the size `_carrier_shape` gives). Unlabelled
            ones come with `DataConfig.unlabeled`.
        run_dir: The run folder (`final.keras`, `history.json`, `distill.json`).
        config: Training settings (`TrainConfig`: epochs, optimizer,
            learning rate, seed, ...); None takes the recipe's.
        distill_config: Temperature and the cross-entropy's share; None
            takes the recipe's.
        recipe: A distillation recipe (`kerascnn.zoo.recipe.
            load_distill_recipe`): "few_labels" (a few labelled images a
            class and many unlabelled), "full_labels" (a whole labelled data
            set), a recipe JSON file, or a `DistillRecipe`.
        seed: Makes the run reproducible (replaces the config's seed).
        data_config: A `DataConfig` or its dict: batch size, augmentation,
            `unlabeled` (a folder of images without labels), ...
        verbose: Keras' progress display.

    Returns:
        A `DistillResult` (`.model`, `.model_path`, `.test_report`).

    Example:
    >>> result = distill("runs/teacher", "tinyvgg_8k", "my_photos", "runs/tiny",
    ...                  TrainConfig(epochs=30, seed=0), data_config={"unlabeled": "more_photos"})
    """
    from kerascnn.data import DataConfig, load_dataset
    from kerascnn.export.metadata import fingerprint
    from kerascnn.model_source import input_shape, load_keras_model
    from kerascnn.training.averaging import AveragedWeights, recalibrate_batch_norm
    from kerascnn.training.checkpointing import DivergenceGuard
    from kerascnn.training.evaluation import evaluate
    from kerascnn.training.run import (
        TEST_FILE,
        data_record,
        deterministic_ops,
        make_optimizer,
        run_machine,
        run_versions,
    )

    if not isinstance(recipe, DistillRecipe):
        recipe = load_distill_recipe(recipe)
    config = config or recipe.config
    if seed is not None:
        config = config.replace(seed=seed)
    distill_config = distill_config or recipe.distill
    run_dir = Path(run_dir)
    # Keras' BackupAndRestore deletes its folder when the run ends: it may hold
    # nothing but that, so nothing of the user's is ever in its way.
    backup = run_dir / ".distill-backup"
    if run_dir.is_dir() and not backup.is_dir() and any(run_dir.iterdir()):
        raise OutputExistsError(
            f"'{run_dir}' is not empty; a distillation writes a new folder (final.keras, "
            "history.json, distill.json). Choose another --out, or move that folder away first."
        )
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    if not isinstance(teacher, keras.Model):
        teacher = load_keras_model(teacher, "distill")
    teacher_names = class_names(teacher)
    student = _student(student, teacher_names)
    if isinstance(data, (str, Path)):
        data_config = DataConfig.of(data_config)
        shape = _carrier_shape(input_shape(teacher), input_shape(student))
        data = load_dataset(
            str(data), image_shape=shape, seed=config.seed or 0, **data_config.to_dict()
        )
    if list(data.class_names) != teacher_names:
        raise UsageError(
            f"The teacher predicts {', '.join(teacher_names)} but {data.source} has "
            f"{', '.join(data.class_names)}; distill on the data the teacher learnt."
        )
    teacher_view, student_view = _views(teacher, student)
    shapes = (input_shape(teacher), input_shape(student))
    distiller = keras.distillation.Distiller(
        teacher=teacher_view,
        student=student_view,
        # NOTE: a KLDivergence instance, not LogitsDistillation's default
        # "kl_divergence": that string becomes Keras' plain function, which
        # the loss does not recognise as KL, so it skips the softmax and
        # compares logits clipped to [1e-7, 1]: 0 for log-probabilities.
        distillation_losses=keras.distillation.LogitsDistillation(
            temperature=distill_config.temperature, loss=keras.losses.KLDivergence()
        ),
        student_loss_weight=distill_config.student_loss_weight,
    )
    steps = -(-(data.sizes["train"] + data.sizes.get("unlabeled", 0)) // data.batch_size)
    distiller.compile(
        optimizer=make_optimizer(config, steps),
        loss=labelled_crossentropy,
        # The student's accuracy; in training, unlabelled images count as misses.
        metrics=["accuracy"],
        steps_per_execution=config.steps_per_execution,
    )
    train_views = _view_batches(data.train, *shapes)
    student_data = _student_data(data, shapes[1])
    # BackupAndRestore (resuming) needs a built model.
    distiller(next(iter(train_views.take(1)))[0])
    validation = data.splits.get("validation")
    guard = DivergenceGuard()
    epoch_log = _EpochLog(run_dir / HISTORY_JSON)
    average = config.ema_momentum is not None
    callbacks = [
        guard,
        *([AveragedWeights(student_data.train, network=student)] if average else []),
        keras.callbacks.BackupAndRestore(str(backup)),
        epoch_log,
    ]
    start = time.perf_counter()
    with deterministic_ops(config.seed is not None):
        distiller.fit(
            train_views,
            validation_data=_view_batches(validation, *shapes) if validation else None,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
    wall = time.perf_counter() - start
    if guard.diverged_at is not None:
        raise TrainingDiverged(
            f"Distillation diverged at epoch {guard.diverged_at[0]}: the loss became NaN or "
            f"infinite. Lower the learning rate (it is {config.learning_rate})."
        )
    # Short runs leave batch norm's moving statistics behind the weights (and
    # Keras' fit ends by giving the student its averaged weights, if any).
    recalibrate_batch_norm(student, student_data.train)
    teacher_print = fingerprint(teacher)["weights_sha256"]
    student.update_metadata(
        class_names=teacher_names,
        provenance={
            **student.provenance,
            "teacher": _source(teacher),
            "teacher_weights_sha256": teacher_print,
        },
    )
    atomic_files.save_model(student, run_dir / "final.keras")
    atomic_files.write_json(
        run_dir / DISTILLER_FILE,
        {
            "teacher": {"source": _source(teacher), "weights_sha256": teacher_print},
            "student": student.spec.to_dict(),
            "recipe": recipe.name,
            "config": config.to_dict(),
            "distill": distill_config.to_dict(),
            "data": data_record(data),
            "precision": {"policy": student.dtype_policy.name},
            "versions": run_versions(),
            "machine": run_machine(),
        },
    )
    report = None
    if "test" in data.splits:
        report = evaluate(student, _student_data(data, shapes[1]), "test")
        atomic_files.write_json(run_dir / TEST_FILE, report.to_dict())
    return DistillResult(
        model=student,
        model_path=run_dir / "final.keras",
        history=epoch_log.history,
        wall_time_s=wall,
        test_report=report,
    )


class _EpochLog(EpochClock):
    """Writes each epoch's logs and times to `history.json` as it ends, so a
    resumed run keeps the epochs before the interruption."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.history = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []

    def on_epoch_end(self, epoch, logs=None):
        self.history = [h for h in self.history if h["epoch"] <= epoch]
        logs = {k: float(v) for k, v in (logs or {}).items()}
        self.history.append({"epoch": epoch + 1, **logs, **self.times()})
        atomic_files.write_json(self.path, self.history)


def _student_data(data, student_shape):
    """`data` as the student sees it (its own size and channels)."""
    views = {
        split: _view_batches(ds, student_shape, student_shape).map(lambda x, y: (x["student"], y))
        for split, ds in data.splits.items()
    }
    return dataclasses.replace(data, splits=views, image_shape=tuple(student_shape))
