"""`TrainConfig` and `DistillConfig`: the settings of training runs, as plain data.

Each field is declared once (`kerascnn.options.option`): the `kerascnn
train` flags, recipe stages and reproduce commands are derived from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kerascnn.errors import UsageError
from kerascnn.options import option

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "constant")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "auto")
STRATEGIES = ("default", "mirrored", "multi_worker")
CLASS_WEIGHTS = ("balanced",)
MONITORS = ("val_accuracy", "val_loss", "accuracy", "loss")


@dataclass(frozen=True)
class TrainConfig:
    """How to train: every field has a default that works for small CNNs.

    Args:
        epochs: Passes over the training data.
        optimizer: "adam", "adamw" (decoupled weight decay) or "sgd"
            (Nesterov momentum 0.9).
        learning_rate: Peak learning rate.
        schedule: "cosine" (decay to 0 over the run, after warmup) or
            "constant".
        warmup_epochs: Epochs of linear warmup to the peak learning rate.
        weight_decay: Weight decay (adamw and sgd).
        label_smoothing: Share of each one-hot target spread evenly over
            the classes, in [0, 1) (softmax and linear heads); 0 for none.
        ema_momentum: None, or keep an exponential moving average of the
            trainable weights, updated every step with this momentum (e.g.
            0.999, an average over about the last 1,000 steps; Keras'
            `use_ema`, the momentum ramped up over the first steps as
            `kerascnn.optimizers` does). Validation, `best.keras` and a
            distilled student use the average, with batch norm statistics
            recomputed for it on 2,048 training images (Keras averages
            trainable weights only).
        monitor: Metric that picks the best model (`val_accuracy`; falls
            back to `accuracy` without validation data).
        seed: Makes the run reproducible: weights, ops, and the data's
            order where `train` loads the data itself (given a source).
            None for a non-deterministic, slightly faster run.
        precision: "float32", "mixed_float16" (GPUs), "mixed_bfloat16", or
            "auto": bfloat16 where the GPU or CPU computes it natively,
            float32 elsewhere (`kerascnn.training.precision`).
        jit_compile: Compile the train step with XLA.
        steps_per_execution: Training batches per call from Python into
            TensorFlow (Keras' `steps_per_execution`): the same steps and
            weights, fewer round trips (LeNet-5 trains 1.27x faster with 32
            than with 1 on 2 CPU cores). Batch-level callbacks see every
            Nth batch. Runs with a distribution strategy step one batch a
            call (Keras' multi-step loop fails under MirroredStrategy).
        strategy: "default" (one device), "mirrored" (all local GPUs, or
            `cpu_replicas` logical CPUs) or "multi_worker" (hosts listed in
            `TF_CONFIG`).
        cpu_replicas: With "mirrored" and no GPU, split the CPU into this
            many logical devices (for trying distribution on a laptop).
        class_weight: None (every image counts the same) or "balanced":
            each class weighs n_images / (n_classes * its images), so a
            class with few images counts as much as one with many (Keras'
            `class_weight`, with scikit-learn's "balanced" rule).
    """

    epochs: int = option(10, "passes over the training data", stage=True)
    optimizer: str = option("adam", "adam, adamw or sgd", choices=OPTIMIZERS, stage=True)
    learning_rate: float = option(1e-3, "peak learning rate", flag="--lr", stage=True)
    schedule: str = option("cosine", "cosine or constant", choices=SCHEDULES, stage=True)
    warmup_epochs: int = option(0, "epochs of linear warmup", stage=True)
    weight_decay: float = option(0.0, "weight decay (adamw, sgd)", stage=True)
    label_smoothing: float = option(
        0.0, "share of each target spread over the classes, e.g. 0.1", stage=True
    )
    ema_momentum: float | None = option(
        None,
        "average the weights over the steps with this momentum, e.g. 0.999; validation "
        "and best.keras use the average",
        stage=True,
    )
    monitor: str = option(
        "val_accuracy", "metric that picks best.keras", choices=MONITORS, stage=True
    )
    seed: int | None = option(None, "make the run reproducible")
    precision: str = option(
        "float32",
        "auto: mixed_bfloat16 where the GPU or CPU computes bfloat16 natively, float32 "
        "elsewhere (the choice is printed and recorded in run.json)",
        choices=PRECISIONS,
    )
    jit_compile: bool = option(False, "compile with XLA")
    steps_per_execution: int = option(
        32, "training batches per call into TensorFlow (same steps, fewer round trips)"
    )
    strategy: str = option("default", "where to train", choices=STRATEGIES)
    cpu_replicas: int | None = option(None, "with --strategy mirrored and no GPU: logical CPUs")
    class_weight: str | None = option(
        None,
        "balanced: weigh each class by n_images / (n_classes * its images), for folders "
        "whose classes have unequal numbers of images",
        choices=CLASS_WEIGHTS,
    )

    def __post_init__(self):
        def positive_int(name):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"`{name}` must be a positive integer. Received: {name}={value!r}")

        def choice(name, choices):
            value = getattr(self, name)
            if value not in choices:
                raise UsageError(
                    f"`{name}` must be one of {', '.join(choices)}. Received: {name}={value!r}"
                )

        positive_int("epochs")
        positive_int("steps_per_execution")
        choice("optimizer", OPTIMIZERS)
        choice("schedule", SCHEDULES)
        choice("precision", PRECISIONS)
        choice("strategy", STRATEGIES)
        choice("monitor", MONITORS)
        if not self.learning_rate > 0:
            raise UsageError(
                f"`learning_rate` must be positive. Received: learning_rate={self.learning_rate!r}"
            )
        if not 0 <= self.warmup_epochs < self.epochs:
            raise UsageError(
                "`warmup_epochs` must be at least 0 and fewer than `epochs`. "
                f"Received: warmup_epochs={self.warmup_epochs!r}, epochs={self.epochs}"
            )
        if self.weight_decay < 0:
            raise UsageError(
                f"`weight_decay` must be >= 0. Received: weight_decay={self.weight_decay!r}"
            )
        if not 0 <= self.label_smoothing < 1:
            raise UsageError(
                "`label_smoothing` must be in [0, 1), e.g. 0.1. "
                f"Received: label_smoothing={self.label_smoothing!r}"
            )
        if self.ema_momentum is not None and not 0 < self.ema_momentum < 1:
            raise UsageError(
                "`ema_momentum` must be in (0, 1), e.g. 0.999, or None for no average. "
                f"Received: ema_momentum={self.ema_momentum!r}"
            )
        if self.cpu_replicas is not None:
            positive_int("cpu_replicas")
        if self.class_weight is not None:
            choice("class_weight", CLASS_WEIGHTS)
            if self.strategy == "multi_worker":
                raise UsageError(
                    "`class_weight` is not supported with strategy='multi_worker'; use "
                    "'default' or 'mirrored'. Received: class_weight='balanced'"
                )
        if self.seed is not None and self.jit_compile:
            raise UsageError(
                "`jit_compile=True` cannot be combined with `seed`: a seeded run uses "
                "deterministic ops, which XLA does not provide. Drop one of them."
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return cls(**data)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class DistillConfig:
    """How the student learns from the teacher.

    Args:
        temperature: Divides both models' logits before the KL divergence
            (softer targets show which wrong classes look alike); the loss is
            scaled by its square, as Hinton et al. do.
        student_loss_weight: Share of the loss that is the cross-entropy on
            the labelled images; the rest matches the teacher, on every image.
    """

    temperature: float = option(4.0, "softens the teacher's and the student's outputs")
    student_loss_weight: float = option(
        0.1, "share of the loss that is cross-entropy on labelled images; the rest is the teacher's"
    )

    def __post_init__(self):
        if not self.temperature > 0:
            raise UsageError(
                f"`temperature` must be positive. Received: temperature={self.temperature!r}"
            )
        if not 0 <= self.student_loss_weight <= 1:
            raise UsageError(
                "`student_loss_weight` must be in [0, 1]. "
                f"Received: student_loss_weight={self.student_loss_weight!r}"
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> DistillConfig:
        return dataclasses.replace(self, **changes)
