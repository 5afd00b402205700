"""`train`: a training run that checkpoints, resumes, and scales out."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from kerascnn import __version__, atomic_files
from kerascnn.builder import ConvNet, build_model, head_activation
from kerascnn.errors import MissingInputError, OutputExistsError, TrainingDiverged, UsageError
from kerascnn.losses import classification_loss
from kerascnn.optimizers import AveragingAdam, AveragingAdamW, AveragingSGD
from kerascnn.spec import ConvNetSpec
from kerascnn.training.averaging import AveragedWeights
from kerascnn.training.checkpointing import (
    BEST,
    CHECKPOINT,
    DivergenceGuard,
    RunCheckpoint,
    read_state,
)
from kerascnn.training.class_weights import balanced_class_weights, class_counts
from kerascnn.training.config import TrainConfig
from kerascnn.training.distribute import is_chief, make_strategy, shard_by_data
from kerascnn.training.distributed_loop import fit_distributed
from kerascnn.training.precision import PrecisionChoice, choose_precision, training_speed

RUN_FILE = "run.json"
TEST_FILE = "test_evaluation.json"

logger = logging.getLogger("kerascnn.training")


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes:
        run_dir: The run's folder.
        history: One dict of logs per completed epoch (resumed ones included).
        best_model_path: `best.keras`, the best model by the monitored metric.
        epochs_run: Epochs trained by this call (after a resume, the rest).
        wall_time_s: Seconds this call spent training.
        precision: The dtype policy trained in, and why (`PrecisionChoice`).
        test_report: `best.keras` on the data's test split (an
            `EvaluationReport`, also `test_evaluation.json`), or None.
    """

    run_dir: Path
    history: list
    best_model_path: Path
    epochs_run: int
    wall_time_s: float
    precision: PrecisionChoice
    test_report: object = None


# Each optimizer name: Keras' optimizer, and the one a run that averages its
# weights takes (Keras' own average starts at full momentum; these ramp it up).
OPTIMIZER_CLASSES = {
    "adam": (keras.optimizers.Adam, AveragingAdam),
    "adamw": (keras.optimizers.AdamW, AveragingAdamW),
    "sgd": (keras.optimizers.SGD, AveragingSGD),
}


def make_optimizer(config: TrainConfig, steps_per_epoch: int):
    """The config's optimizer with its learning-rate schedule (warmup, cosine)."""
    lr = config.learning_rate
    if config.schedule == "cosine":
        warmup = config.warmup_epochs * steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else lr,
            decay_steps=config.epochs * steps_per_epoch - warmup,
            warmup_target=lr if warmup else None,
            warmup_steps=warmup,
        )
    plain, averaging = OPTIMIZER_CLASSES[config.optimizer]
    optimizer, average = plain, {}
    if config.ema_momentum is not None:
        optimizer = averaging
        average = {"use_ema": True, "ema_momentum": config.ema_momentum}
    if config.optimizer == "adam":
        return optimizer(lr, **average)
    if config.optimizer == "adamw":
        return optimizer(lr, weight_decay=config.weight_decay, **average)
    return optimizer(
        lr, momentum=0.9, nesterov=True, weight_decay=config.weight_decay or None, **average
    )


@contextlib.contextmanager
def deterministic_ops(enabled: bool):
    """Turns TensorFlow's op determinism on for a seeded run, then back off.

    NOTE: determinism is process-wide and only enabling it is public API.
    Left on, it would slow every later run in the process and make Keras
    silently drop `jit_compile` (XLA), so the previous state is restored.
    """
    from tensorflow.python.framework import config as tf_config

    was_enabled = tf_config.is_op_determinism_enabled()
    if enabled:
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if enabled and not was_enabled:
            tf_config.disable_op_determinism()


def compile_for_training(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> None:
    """Compiles `model` with the config's optimizer and schedule, and the
    loss its classifier's activation calls for (`classification_loss`)."""
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss=classification_loss(head_activation(model), config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
        # NOTE: Keras 3.15's multi-step loop fails under MirroredStrategy ("You
        # must feed a value for placeholder tensor ..."); distributed runs step
        # one batch a call (multi_worker has its own loop).
        steps_per_execution=config.steps_per_execution if config.strategy == "default" else 1,
    )


def run_versions() -> dict:
    """The versions a run trained with, for its record and its card."""
    return {
        "kerascnn": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }


def run_machine() -> dict:
    """Where the run trains, in words a card can print."""
    gpus = [
        tf.config.experimental.get_device_details(gpu).get("device_name", "GPU")
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    cpus = os.cpu_count()
    description = ", ".join(gpus) if gpus else f"{cpus} CPU core{'s' if cpus != 1 else ''}"
    return {"description": description, "cpus": cpus, "gpus": gpus, "platform": platform.machine()}


def _new_model(model_or_spec, precision: str, class_names) -> keras.Model:
    """Builds the spec, or copies the model, in the current strategy's scope."""
    if isinstance(model_or_spec, keras.Model):
        if not tf.distribute.has_strategy():
            return model_or_spec
        # NOTE: keras.models.clone_model rebuilds any functional subclass as a
        # plain Functional model, which would drop a ConvNet's class names.
        if isinstance(model_or_spec, ConvNet):
            copy = ConvNet.from_config(model_or_spec.get_config())
        else:
            copy = keras.models.clone_model(model_or_spec)
        copy.set_weights(model_or_spec.get_weights())
        return copy
    return build_model(model_or_spec, dtype=precision, class_names=class_names)


def _precision(config: TrainConfig, spec, data) -> PrecisionChoice:
    """The policy to build `spec` in; "auto" on a CPU that computes bfloat16
    natively times the network in both policies (`training_speed`)."""
    if not isinstance(spec, ConvNetSpec):
        return choose_precision(config.precision)

    def speed(policy: str) -> float:
        def build():
            model = build_model(spec, dtype=policy, class_names=data.class_names)
            compile_for_training(model, config, steps_per_epoch=1)
            return model

        return training_speed(build, data.image_shape, data.batch_size)

    return choose_precision(config.precision, speed=speed)


def _for_classes(model_or_spec, data):
    """The spec or model to train on `data`, its head matching the data's classes.

    A spec's head follows the data (with a warning when the spec said
    otherwise); a model's head cannot change, so a mismatch is refused
    before anything is trained. A `ConvNet` takes the data's class names.
    """
    names = list(data.class_names)
    if data.sizes.get("unlabeled"):
        raise UsageError(
            f"{data.source} has {data.sizes['unlabeled']:,} unlabelled images, which training "
            "cannot learn from alone; a teacher labels them in distillation (kerascnn distill)."
        )
    if isinstance(model_or_spec, keras.Model):
        outputs = int(model_or_spec.outputs[0].shape[-1])
        if outputs != len(names):
            raise UsageError(
                f"Model '{model_or_spec.name}' predicts {outputs} classes but {data.source} "
                f"has {len(names)} ({', '.join(names)}); train a model built for "
                f"{len(names)} classes, e.g. create_model(..., class_names={names}), or "
                "fine-tune a preset (kerascnn finetune)."
            )
        if isinstance(model_or_spec, ConvNet):
            model_or_spec.update_metadata(class_names=names)
        return model_or_spec
    spec = (
        model_or_spec
        if isinstance(model_or_spec, ConvNetSpec)
        else ConvNetSpec.from_dict(model_or_spec)
    )
    if spec.head.num_classes != len(names):
        logger.warning(
            "%s: the head predicts the data's %d classes (%s), not the spec's %d.",
            spec.name,
            len(names),
            ", ".join(names),
            spec.head.num_classes,
        )
        spec = spec.replace(head=dataclasses.replace(spec.head, num_classes=len(names)))
    return spec


def _load_data(source, model_or_spec, config: TrainConfig, data_config, first_epoch: int):
    """The run's data: a run resumed after `first_epoch` epochs draws new
    shuffles and augmentations (and dropout masks), not its first ones again."""
    from kerascnn.data import DataConfig, load_dataset
    from kerascnn.data.dataset import stream_seed
    from kerascnn.model_source import input_shape

    if config.seed is not None:
        # Before the data: tf.data mixes the global seed into its shuffle order.
        keras.utils.set_random_seed(stream_seed(config.seed, first_epoch))
    if isinstance(model_or_spec, dict):
        model_or_spec = ConvNetSpec.from_dict(model_or_spec)
    data_config = DataConfig.of(data_config)
    return load_dataset(
        str(source),
        image_shape=input_shape(model_or_spec),
        seed=config.seed if config.seed is not None else 0,
        first_epoch=first_epoch,
        **data_config.to_dict(),
    )


def _run_state(run_dir: Path, config: TrainConfig, resume: bool, chief: bool) -> dict | None:
    """The run folder's completed epochs, refusing to start over a run or
    to resume nothing."""
    state = read_state(run_dir, config.epochs)
    if resume and state is None:
        raise MissingInputError(
            f"Nothing to resume in '{run_dir}': it has no completed epoch ({CHECKPOINT} and "
            "state.json). Start the run without --resume."
        )
    if chief and not resume and state is not None:
        raise OutputExistsError(
            f"'{run_dir}' already holds a run; continue it with --resume (resume=True) or "
            "choose another output folder."
        )
    if chief and not resume and (run_dir / RUN_FILE).exists():
        raise OutputExistsError(
            f"'{run_dir}' holds a run that stopped before completing an epoch, so there is "
            "nothing to resume; delete the folder to start again, or choose another one."
        )
    return state


def data_record(data) -> dict:
    """What a run's record says of its data (run.json, distill.json)."""
    return {
        "source": data.source,
        "class_names": list(data.class_names),
        "image_shape": list(data.image_shape),
        "sizes": data.sizes,
        "batch_size": data.batch_size,
        **data.options,
    }


def _run_record(model, data, config: TrainConfig, precision, class_weight) -> dict:
    """What `run.json` says of a run: what trained on what, how, where."""
    return {
        "model": model.spec.to_dict() if isinstance(model, ConvNet) else model.name,
        "data": data_record(data),
        "config": config.to_dict(),
        "precision": precision.to_dict(),
        "class_weight": class_weight,
        "command": sys.argv,
        "versions": run_versions(),
        "machine": run_machine(),
    }


def _test_best(run_dir: Path, data):
    """`best.keras` on the test split, also written to `test_evaluation.json`."""
    from kerascnn.model_source import load_keras_file
    from kerascnn.training.evaluation import evaluate

    report = evaluate(load_keras_file(run_dir / BEST), data, "test")
    atomic_files.write_json(run_dir / TEST_FILE, report.to_dict())
    return report


def train(
    model_or_spec: keras.Model | ConvNetSpec | dict | str,
    data,
    run_dir: str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    data_config=None,
    test: bool = True,
    verbose: int | str = "auto",
    callbacks=(),
) -> TrainResult:
    """Trains a network on a data set, checkpointing every epoch.

    Args:
        model_or_spec: A `ConvNetSpec` (or its dict) to build, a Keras
            model (for example a preset to fine-tune), or a source naming
            either (a zoo name, a spec JSON file, a `.keras` file or run
            folder: `kerascnn.model_source.to_train`).
        data: A data source (an image folder, `tfds:NAME`), loaded here at
            the model's input size with `data_config` and the run's seed;
            or an `ImageDataset` (from `kerascnn.data.load_dataset`) with a
            train split and ideally a validation split.
        run_dir: Folder for the run: `checkpoint.keras`, `best.keras`,
            `history.csv`/`.json`, `state.json`, `run.json`.
        config: A `TrainConfig`; its defaults suit small CNNs.
        resume: Continue the run in `run_dir` from its last completed epoch.
            Data given as a source is loaded so that the rest of the run
            draws new batches, not its first ones; an `ImageDataset` should
            be built with `load_dataset(..., first_epoch=n)`, n that epoch.
        data_config: A `DataConfig` (or its dict) for `data` given as a source.
        test: Evaluate `best.keras` on the data's test split, if it has one.
        verbose: Keras' progress display (`"auto"`, 0, 1, 2).
        callbacks: More Keras callbacks.

    Returns:
        A `TrainResult`.

    Raises:
        FileExistsError: `run_dir` holds a run and `resume` is False.
        TrainingDiverged: the loss became NaN or infinite.

    Example:
    >>> result = train("lenet5", "tfds:mnist", "runs/lenet", TrainConfig(epochs=10, seed=1))
    >>> result.test_report.accuracy
    """
    config = config or TrainConfig()
    run_dir = Path(run_dir)
    # First: the strategy must exist before TensorFlow sets up its devices.
    strategy = make_strategy(config.strategy, config.cpu_replicas)
    chief = is_chief()
    # Before any model or data loads: a run is never started over, nor nothing resumed.
    state = _run_state(run_dir, config, resume, chief)
    if isinstance(model_or_spec, (str, Path)):
        from kerascnn.model_source import to_train

        model_or_spec = to_train(model_or_spec)
    if isinstance(data, (str, Path)):
        first_epoch = state["epoch"] if resume and state else 0
        data = _load_data(data, model_or_spec, config, data_config, first_epoch)
    model_or_spec = _for_classes(model_or_spec, data)
    # Before seeding: timing throwaway networks draws random numbers.
    precision = _precision(config, model_or_spec if state is None else None, data)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)

    # Non-chief workers save into scratch space: saving may involve every
    # worker, but only the chief's files are the run's.
    write_dir = run_dir if chief else Path(tempfile.mkdtemp(prefix="kerascnn-worker-"))

    train_data = data.train
    validation = data.splits.get("validation")
    if config.strategy == "multi_worker":
        train_data = shard_by_data(train_data)
        validation = shard_by_data(validation) if validation is not None else None
    steps_per_epoch = math.ceil(data.sizes["train"] / data.batch_size)
    monitor = config.monitor if validation is not None else config.monitor.replace("val_", "")

    with strategy.scope():
        if state is not None:
            try:
                model = keras.saving.load_model(run_dir / CHECKPOINT, compile=True)
            except Exception as error:  # the run folder's file, whatever it now holds
                raise UsageError(
                    f"'{run_dir / CHECKPOINT}' cannot be loaded ({type(error).__name__}), so "
                    f"'{run_dir}' cannot be resumed. Its files are left as they are; start the "
                    "run again in a new folder."
                ) from error
            initial_epoch, history, best = state["epoch"], state["history"], state["best"]
        else:
            model = _new_model(model_or_spec, precision.policy, data.class_names)
            compile_for_training(model, config, steps_per_epoch)
            initial_epoch, history, best = 0, [], None
    # A model (a checkpoint, a preset) keeps the policy it was built with.
    if model.dtype_policy.name != precision.policy:
        precision = PrecisionChoice(
            config.precision, model.dtype_policy.name, "the model's own dtype policy"
        )
    if verbose != 0 and chief and config.precision == "auto":
        print(f"precision: {precision.policy} ({precision.reason})")

    class_weight = None
    if config.class_weight == "balanced":
        class_weight = balanced_class_weights(class_counts(data.train, data.num_classes))

    if chief and state is None:
        record = _run_record(model, data, config, precision, class_weight)
        atomic_files.write_json(
            run_dir / RUN_FILE, {**record, "replicas": strategy.num_replicas_in_sync}
        )

    guard = DivergenceGuard()
    average = AveragedWeights(train_data) if config.ema_momentum is not None else None
    checkpoint = RunCheckpoint(
        write_dir, monitor, history=history, best=best, guard=guard, average=average
    )
    fit_callbacks = [guard, *([average] if average else []), checkpoint, *callbacks]
    start = time.perf_counter()
    try:
        with deterministic_ops(config.seed is not None):
            if config.strategy == "multi_worker":
                fit_distributed(
                    model,
                    strategy,
                    train_data,
                    validation,
                    epochs=config.epochs,
                    initial_epoch=initial_epoch,
                    steps_per_epoch=steps_per_epoch,
                    global_batch_size=data.batch_size,
                    callbacks=fit_callbacks,
                    verbose=verbose,
                )
            else:
                model.fit(
                    train_data,
                    validation_data=validation,
                    epochs=config.epochs,
                    initial_epoch=initial_epoch,
                    callbacks=fit_callbacks,
                    class_weight=class_weight,
                    shuffle=False,  # the train split shuffles itself
                    verbose=verbose,
                )
    finally:
        if not chief:
            shutil.rmtree(write_dir, ignore_errors=True)
    wall = time.perf_counter() - start
    if guard.diverged_at is not None:
        completed = len(checkpoint.history)
        raise TrainingDiverged(
            f"Training stopped at {guard.where}: the loss became NaN or "
            f"infinite. The last good checkpoint ({completed} completed epoch(s)) is in "
            f"'{run_dir}'. Lower the learning rate (it is {config.learning_rate}), check the "
            "data for invalid values, or use batch normalisation; then resume."
        )
    report = _test_best(run_dir, data) if test and "test" in data.splits and chief else None
    return TrainResult(
        run_dir=run_dir,
        history=checkpoint.history,
        best_model_path=run_dir / BEST,
        epochs_run=config.epochs - initial_epoch,
        wall_time_s=wall,
        precision=precision,
        test_report=report,
    )
